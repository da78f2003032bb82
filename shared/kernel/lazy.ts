/**
 * A value built on first use and kept: for module-level objects that are costly to build and that a function's
 * usual requests never touch, so importing the module (a Lambda's cold start) does not pay for them.
 */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
