/** A worker module that fails as it loads. */
throw new Error("this module does not load");
