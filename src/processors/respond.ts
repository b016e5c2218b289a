import { createResponse, type RemotingCommand } from '../remoting/command.js';
import { ResponseCode } from '../remoting/requestCode.js';

export function success(request: RemotingCommand, body?: Buffer, extFields?: Record<string, string>): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, null, extFields, body);
}

export function failure(request: RemotingCommand, code: number, remark: string): RemotingCommand {
  return createResponse(request, code, remark);
}

export function systemError(request: RemotingCommand, remark: string): RemotingCommand {
  return createResponse(request, ResponseCode.SYSTEM_ERROR, remark);
}

/** JSON body; the Java side serializes these bodies with fastjson's defaults. */
export function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
