/** Money units. */

/** An amount in Indian rupees (₹): price points × quantity × lot size, costs, nets. */
export type Rupees = number;
