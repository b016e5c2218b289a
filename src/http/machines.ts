import type { AnyStateMachine } from 'xstate';
import { exportMachineConfig, referencedNames } from '../observe/machineConfig.js';
import type { HttpServer } from './httpServer.js';

/**
 * The statecharts as JSON: `GET /machines/<id>` returns one as a machine
 * config (`createMachine(json)` loads it, the Stately editor imports it), and
 * `GET /machines` lists them with what a loader has to supply: the
 * implementations the config names (`provide`) and what it leaves out
 * (`omitted`: the context factory, invoke inputs, output).
 */
export function registerMachineRoutes(http: HttpServer, machines: readonly AnyStateMachine[]): void {
  const exported = new Map(machines.map((machine) => [machine.id, exportMachineConfig(machine)]));
  http.get('/machines', () => ({
    status: 200,
    body: {
      machines: machines.map((machine) => {
        const { config, omitted } = exported.get(machine.id)!;
        return {
          id: machine.id,
          href: `/machines/${machine.id}`,
          states: Object.keys(machine.root.states),
          provide: referencedNames(config),
          omitted,
        };
      }),
    },
  }));
  http.get('/machines/', (request) => {
    const id = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname.slice('/machines/'.length));
    const machine = exported.get(id);
    if (!machine) return { status: 404, body: { error: `no machine '${id}'`, machines: [...exported.keys()] } };
    return { status: 200, body: machine.config };
  });
}
