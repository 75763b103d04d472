/** Shared helpers of the bad-input tests (not a test file itself): objects that must never be converted. */

/** Calls of a trap's conversion methods since the last `resetConversions`: must stay 0. */
let conversions = 0;

/** Starts counting conversions anew. */
export function resetConversions(): void {
  conversions = 0;
}

/** How many trap conversions ran since `resetConversions`. */
export function conversionCount(): number {
  return conversions;
}

/** An object (or function) whose every conversion to a primitive counts itself and throws. */
export function trap<T extends object>(base: T): T {
  const fail = () => {
    conversions++;
    throw new Error("the allocator converted a caller's object");
  };
  for (const key of ["valueOf", "toString", Symbol.toPrimitive])
    Object.defineProperty(base, key, { value: fail });
  return base;
}
