import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseCostSchedule, ratesOn, readCostSchedule, type CostRates } from "../../lib/money/cost-schedule.ts";
import {
  addCosts,
  addCostsInto,
  COST_COMPONENTS,
  type Costs,
  fillCosts,
  legCosts,
  premiumTurnover,
  zeroCosts,
} from "../../lib/money/fill-costs.ts";
import { SeededRandom } from "../../lib/random.ts";

// Rates in force from 1 October 2024 (docs/costs.md) and before it, written out so each case below is checkable by hand.
const OCT_2024: CostRates = {
  brokerage_per_order: 20,
  stt_sell: 0.001,
  exchange: 0.0003503,
  sebi: 0.000001,
  ipft: 0.000005,
  stamp_buy: 0.00003,
  gst: 0.18,
};
const APR_2024: CostRates = { ...OCT_2024, stt_sell: 0.000625, exchange: 0.0005 };

/** Every component and the total agree with `want` to well below a paisa. */
function expectCosts(got: Costs, want: Costs): void {
  for (const c of [...COST_COMPONENTS, "total"] as const) {
    if (Math.abs(got[c] - want[c]) > 1e-9) throw new Error(`${c}: got ${got[c]}, want ${want[c]}`);
  }
}

describe("fillCosts: one order, 2 lots of 75 at ₹100 (premium turnover ₹15,000)", () => {
  test("premium turnover is price × |lots| × lot size", () => {
    expect(premiumTurnover(100, 2, 75)).toBe(15_000);
    expect(premiumTurnover(100, -2, 75)).toBe(15_000);
  });

  test("a buy: stamp duty, no STT", () => {
    // exchange 15,000 × 0.03503 % = 5.2545; sebi 0.015; ipft 0.075; stamp 15,000 × 0.003 % = 0.45;
    // gst 18 % × (20 + 5.2545 + 0.015 + 0.075) = 4.56201
    expectCosts(fillCosts(OCT_2024, { side: "buy", price: 100, lots: 2, lotSize: 75 }), {
      brokerage: 20,
      stt: 0,
      exchange: 5.2545,
      sebi: 0.015,
      ipft: 0.075,
      stamp: 0.45,
      gst: 4.56201,
      total: 30.35651,
    });
  });

  test("a sell: STT, no stamp duty; GST is not charged on STT", () => {
    expectCosts(fillCosts(OCT_2024, { side: "sell", price: 100, lots: 2, lotSize: 75 }), {
      brokerage: 20,
      stt: 15,
      exchange: 5.2545,
      sebi: 0.015,
      ipft: 0.075,
      stamp: 0,
      gst: 4.56201,
      total: 44.90651,
    });
  });

  test("brokerage is per order whatever the quantity; the rest scale with turnover", () => {
    const one = fillCosts(OCT_2024, { side: "sell", price: 100, lots: 1, lotSize: 75 });
    const ten = fillCosts(OCT_2024, { side: "sell", price: 100, lots: 10, lotSize: 75 });
    expect(ten.brokerage).toBe(one.brokerage);
    for (const c of ["stt", "exchange", "sebi", "ipft"] as const) expect(ten[c]).toBeCloseTo(10 * one[c], 12);
  });

  test("a fill at ₹0 pays brokerage and its GST only", () => {
    expectCosts(fillCosts(OCT_2024, { side: "sell", price: 0, lots: 1, lotSize: 75 }), {
      ...zeroCosts(),
      brokerage: 20,
      gst: 3.6,
      total: 23.6,
    });
  });

  test("a quantity or price that cannot be a fill is refused", () => {
    const f = (price: number, lots: number, lotSize: number) => () =>
      fillCosts(OCT_2024, { side: "buy", price, lots, lotSize });
    expect(f(100, 0, 75)).toThrow(RangeError);
    expect(f(100, Number.NaN, 75)).toThrow(RangeError);
    expect(f(-1, 1, 75)).toThrow(RangeError);
    expect(f(Number.NaN, 1, 75)).toThrow(RangeError);
    expect(f(100, 1, 0)).toThrow(RangeError);
    expect(f(100, 1, 7.5)).toThrow(RangeError);
  });
});

describe("legCosts: entry ₹100, exit ₹120, 2 lots of 75", () => {
  test("a long leg buys at entry (stamp on ₹15,000) and sells at exit (STT on ₹18,000)", () => {
    // exchange 33,000 × 0.03503 % = 11.5599; gst 18 % × (40 + 11.5599 + 0.033 + 0.165) = 9.316422
    expectCosts(legCosts({ side: "long", lots: 2, lotSize: 75, entryPrice: 100, exitPrice: 120 }, OCT_2024), {
      brokerage: 40,
      stt: 18,
      exchange: 11.5599,
      sebi: 0.033,
      ipft: 0.165,
      stamp: 0.45,
      gst: 9.316422,
      total: 79.524322,
    });
  });

  test("a short leg sells at entry (STT on ₹15,000) and buys at exit (stamp on ₹18,000)", () => {
    const want = {
      brokerage: 40,
      stt: 15,
      exchange: 11.5599,
      sebi: 0.033,
      ipft: 0.165,
      stamp: 0.54,
      gst: 9.316422,
      total: 76.614322,
    };
    expectCosts(legCosts({ side: "short", lots: 2, lotSize: 75, entryPrice: 100, exitPrice: 120 }, OCT_2024), want);
    // The chain driver's signed lots: the sign is not a second say on the side.
    expectCosts(legCosts({ side: "short", lots: -2, lotSize: 75, entryPrice: 100, exitPrice: 120 }, OCT_2024), want);
  });

  test("a leg's costs are its entry fill's plus its exit fill's", () => {
    const leg = { side: "long" as const, lots: 3, lotSize: 65, entryPrice: 87.35, exitPrice: 61.2 };
    const entry = fillCosts(OCT_2024, { side: "buy", price: 87.35, lots: 3, lotSize: 65 });
    const exit = fillCosts(OCT_2024, { side: "sell", price: 61.2, lots: 3, lotSize: 65 });
    expectCosts(legCosts(leg, OCT_2024), addCosts([entry, exit]));
  });
});

describe("each side of a schedule's date change (1 October 2024)", () => {
  const schedule = parseCostSchedule(
    JSON.stringify([
      { from: "2024-04-01", ...APR_2024 },
      { from: "2024-10-01", ...OCT_2024 },
    ]),
    "two-rows.json",
  );
  const sell = { side: "sell" as const, price: 100, lots: 1, lotSize: 75 }; // premium turnover ₹7,500

  test("a sell on 30 September: STT 0.0625 %, exchange 0.05 %", () => {
    // stt 4.6875; exchange 3.75; sebi 0.0075; ipft 0.0375; gst 18 % × (20 + 3.75 + 0.0075 + 0.0375) = 4.2831
    expectCosts(fillCosts(ratesOn(schedule, "2024-09-30"), sell), {
      brokerage: 20,
      stt: 4.6875,
      exchange: 3.75,
      sebi: 0.0075,
      ipft: 0.0375,
      stamp: 0,
      gst: 4.2831,
      total: 32.7656,
    });
  });

  test("the same sell on 1 October: STT 0.1 %, exchange 0.03503 %", () => {
    // stt 7.5; exchange 2.62725; gst 18 % × (20 + 2.62725 + 0.0075 + 0.0375) = 4.081005
    expectCosts(fillCosts(ratesOn(schedule, "2024-10-01"), sell), {
      brokerage: 20,
      stt: 7.5,
      exchange: 2.62725,
      sebi: 0.0075,
      ipft: 0.0375,
      stamp: 0,
      gst: 4.081005,
      total: 34.253255,
    });
  });

  test("a leg across the change takes each fill's own day's rates", () => {
    // Bought 30 September at ₹100 (₹7,500: exchange 3.75, stamp 0.225); sold 1 October at ₹120
    // (₹9,000: STT 9, exchange 3.1527); gst 18 % × (40 + 6.9027 + 0.0165 + 0.0825) = 8.460306.
    const leg = { side: "long" as const, lots: 1, lotSize: 75, entryPrice: 100, exitPrice: 120 };
    expectCosts(legCosts(leg, ratesOn(schedule, "2024-09-30"), ratesOn(schedule, "2024-10-01")), {
      brokerage: 40,
      stt: 9,
      exchange: 6.9027,
      sebi: 0.0165,
      ipft: 0.0825,
      stamp: 0.225,
      gst: 8.460306,
      total: 64.687006,
    });
  });
});

test("docs/costs.md's worked example: a short NIFTY leg on 2025-11-18 under the shipped schedule", () => {
  const shipped = readCostSchedule(join(import.meta.dir, "../../costs/nse-index-options.json"));
  const leg = { side: "short" as const, lots: 1, lotSize: 75, entryPrice: 120.5, exitPrice: 98 };
  expectCosts(legCosts(leg, ratesOn(shipped, "2025-11-18")), {
    brokerage: 40,
    stt: 9.0375,
    exchange: 5.74054125,
    sebi: 0.0163875,
    ipft: 0.0819375,
    stamp: 0.2205,
    gst: 8.250995925,
    total: 63.347862175,
  });
});

describe("addCosts", () => {
  test("sums component by component; the total is the sum of the totals", () => {
    const a = fillCosts(OCT_2024, { side: "buy", price: 100, lots: 2, lotSize: 75 });
    const b = fillCosts(APR_2024, { side: "sell", price: 55.5, lots: 1, lotSize: 30 });
    const sum = addCosts([a, b]);
    for (const c of COST_COMPONENTS) expect(sum[c]).toBe(a[c] + b[c]);
    expect(sum.total).toBe(a.total + b.total);
    expect(addCosts([])).toEqual(zeroCosts());
    const running = zeroCosts();
    addCostsInto(running, a);
    addCostsInto(running, b);
    expect(running).toEqual(sum);
  });

  test("a generator of costs", () => {
    const leg = { side: "short" as const, lots: 1, lotSize: 30, entryPrice: 250, exitPrice: 240 };
    function* legs() {
      for (let i = 0; i < 4; i++) yield legCosts(leg, OCT_2024);
    }
    expect(addCosts(legs()).total).toBeCloseTo(4 * legCosts(leg, OCT_2024).total, 10);
  });
});

/**
 * The prototype's fee post-processor, re-derived here as a second implementation: per round trip,
 * buy value and sell value at quantity × premium; STT on sells, stamp on buys, exchange, IPFT and
 * SEBI on both; GST on exchange + IPFT + SEBI; no brokerage.
 */
function prototypeFees(rates: CostRates, buyPrice: number, sellPrice: number, quantity: number): number {
  const buyValue = buyPrice * quantity;
  const sellValue = sellPrice * quantity;
  const turnover = buyValue + sellValue;
  const exchange = turnover * rates.exchange;
  const ipft = turnover * rates.ipft;
  const sebi = turnover * rates.sebi;
  const gst = (exchange + ipft + sebi) * rates.gst;
  return sellValue * rates.stt_sell + exchange + ipft + sebi + buyValue * rates.stamp_buy + gst;
}

test("with no brokerage, random legs cost what the prototype's post-processor charges", () => {
  const rnd = new SeededRandom(22);
  const rates = { ...OCT_2024, brokerage_per_order: 0 };
  for (let i = 0; i < 2000; i++) {
    const side = rnd.next() < 0.5 ? ("long" as const) : ("short" as const);
    const lots = rnd.int(1, 40);
    const lotSize = [75, 65, 35, 30][rnd.int(0, 3)];
    const entryPrice = Math.round(rnd.next() * 80_000) / 100;
    const exitPrice = Math.round(rnd.next() * 80_000) / 100;
    const [buy, sell] = side === "long" ? [entryPrice, exitPrice] : [exitPrice, entryPrice];
    const got = legCosts({ side, lots, lotSize, entryPrice, exitPrice }, rates).total;
    const want = prototypeFees(rates, buy, sell, lots * lotSize);
    expect(Math.abs(got - want)).toBeLessThan(1e-9 * Math.max(1, want));
  }
});
