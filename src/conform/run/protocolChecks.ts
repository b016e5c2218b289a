import { ResponseCode, responseCodeName } from '../../remoting/requestCode.js';
import type { PathRecord } from '../results.js';
import type { RunContext } from './context.js';
import { walk, type PathMeta, type StepPlan } from './walk.js';

/**
 * Checks that walk no chart but every name server answers the same way: both
 * only read, so they are safe against any name server.
 */
export const UNKNOWN_TOPIC_CHECK = 'protocol: a route read of a topic nobody registered answers TOPIC_NOT_EXIST';
export const UNKNOWN_CODE_CHECK =
  'protocol: a request code the server does not serve is answered REQUEST_CODE_NOT_SUPPORTED';

/** Not a request code of RocketMQ's (its codes stay far below). */
const UNKNOWN_REQUEST_CODE = 9_999;

export function protocolChecks(unknownTopic: string): Array<{ name: string; steps: (ctx: RunContext) => StepPlan[] }> {
  return [
    {
      name: UNKNOWN_TOPIC_CHECK,
      steps: (ctx) => [
        {
          eventType: 'GET_ROUTEINFO_BY_TOPIC',
          action: `GET_ROUTEINFO_BY_TOPIC ${unknownTopic}`,
          from: null,
          to: 'answered',
          run: async () => {
            const answer = await ctx.wire.route(unknownTopic);
            if (answer.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
            return {
              check: 'route-read',
              kind: 'other',
              message: `answered ${responseCodeName(answer.code)}${answer.remark ? ` "${answer.remark}"` : ''}, expected TOPIC_NOT_EXIST`,
            };
          },
        },
      ],
    },
    {
      name: UNKNOWN_CODE_CHECK,
      steps: (ctx) => [
        {
          eventType: `request code ${UNKNOWN_REQUEST_CODE}`,
          action: `request code ${UNKNOWN_REQUEST_CODE}`,
          from: null,
          to: 'answered',
          run: async () => {
            const answer = await ctx.wire.raw(UNKNOWN_REQUEST_CODE).catch((err: Error) => err);
            if (answer instanceof Error) {
              return {
                check: 'unknown-request-code',
                kind: answer.name === 'RemotingTimeoutError' ? 'no-answer' : 'other',
                message: answer.message,
              };
            }
            if (answer.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) return undefined;
            return {
              check: 'unknown-request-code',
              kind: 'other',
              message: `answered ${responseCodeName(answer.code)}, expected REQUEST_CODE_NOT_SUPPORTED`,
            };
          },
        },
      ],
    },
  ];
}

export async function runProtocolCheck(
  check: { name: string; steps: (ctx: RunContext) => StepPlan[] },
  id: string,
  ctx: RunContext,
): Promise<PathRecord> {
  const meta: PathMeta = { id, group: 'protocol', name: check.name, origin: 'protocol / scripted', readOnly: true };
  return walk(meta, check.steps(ctx), ctx.clock, ctx.profile, ctx.signal);
}
