/** The slot function ioredis itself routes cluster commands with (the package ships no types). */
declare module 'cluster-key-slot' {
  /** The cluster slot of a key: only its hash tag (the first non-empty `{…}`) counts when it has one. */
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
