/**
 * `amount × multiplier` for a decimal `amount` string such as `1.5`, computed exactly in
 * integers; undefined when the product has a fractional part. Floating point would make
 * `1.1KB` 1100.0000000000002 bytes and refuse it, or round values a user did not ask to round.
 */
export function exactProduct(amount: string, multiplier: bigint): bigint | undefined {
  const [whole, fraction = ''] = amount.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(`${whole || '0'}${fraction}`) * multiplier;
  return scaled % scale === 0n ? scaled / scale : undefined;
}
