/** The size cap of one call: a caller may lower the operator's MAX_FILE_SIZE_MB, never raise it. */
export function sizeCap(configuredBytes: number, requestedBytes?: number): number {
  return requestedBytes !== undefined && requestedBytes > 0
    ? Math.min(configuredBytes, requestedBytes)
    : configuredBytes;
}
