export const CURRENCY = "EUR";
export const CATALOG = { tea: 250, coffee: 300, cake: 420 };
