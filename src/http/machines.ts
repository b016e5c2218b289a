import type { AnyStateMachine } from 'xstate';
import type { HttpServer } from './httpServer.js';

/**
 * The statecharts as JSON: `GET /machines` lists them and `GET /machines/<id>`
 * returns one definition (xstate's `machine.toJSON()`, the shape the Stately
 * visualizer imports).
 */
export function registerMachineRoutes(http: HttpServer, machines: readonly AnyStateMachine[]): void {
  const byId = new Map(machines.map((machine) => [machine.id, machine]));
  http.get('/machines', () => ({
    status: 200,
    body: { machines: machines.map((machine) => ({ id: machine.id, href: `/machines/${machine.id}`, states: Object.keys(machine.root.states) })) },
  }));
  http.get('/machines/', (request) => {
    const id = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname.slice('/machines/'.length));
    const machine = byId.get(id);
    if (!machine) return { status: 404, body: { error: `no machine '${id}'`, machines: [...byId.keys()] } };
    return { status: 200, body: machine.toJSON() };
  });
}
