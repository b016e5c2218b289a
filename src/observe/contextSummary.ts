/** The small, serializable part of an actor's context that logs, the gateway and inspectors show. */
export function summarizeContext(machine: string, context: unknown): Record<string, unknown> {
  if (machine === 'nameServer') {
    const c = context as { liveBrokers: Map<string, unknown>; reason?: string };
    return { liveBrokers: c.liveBrokers.size, ...(c.reason ? { reason: c.reason } : {}) };
  }
  if (machine === 'broker') {
    const c = context as {
      clusterName: string;
      brokerName: string;
      brokerAddr: string;
      brokerId: number;
      generation: number;
    };
    return {
      clusterName: c.clusterName,
      brokerName: c.brokerName,
      brokerAddr: c.brokerAddr,
      brokerId: c.brokerId,
      generation: c.generation,
    };
  }
  return {};
}
