import { describe, expect, it } from 'vitest';
import {
  languageCodeOf,
  languageNameOf,
  LanguageCode,
  MQVersion,
  RequestCode,
  requestCodeName,
  ResponseCode,
  responseCodeName,
} from '../../src/remoting/requestCode.js';

describe('protocol codes', () => {
  it('has the codes of the name server protocol', () => {
    expect(RequestCode.GET_ROUTEINFO_BY_TOPIC).toBe(105);
    expect(RequestCode.REGISTER_BROKER).toBe(103);
    expect(RequestCode.BROKER_HEARTBEAT).toBe(904);
    expect(RequestCode.NOTIFY_MIN_BROKER_ID_CHANGE).toBe(905);
    expect(ResponseCode).toMatchObject({
      SUCCESS: 0,
      SYSTEM_ERROR: 1,
      SYSTEM_BUSY: 2,
      REQUEST_CODE_NOT_SUPPORTED: 3,
      NO_PERMISSION: 16,
      TOPIC_NOT_EXIST: 17,
      QUERY_NOT_FOUND: 22,
      INVALID_PARAMETER: 29,
    });
  });

  it('gives every request code a distinct name', () => {
    const codes = Object.values(RequestCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, code] of Object.entries(RequestCode)) expect(requestCodeName(code)).toBe(name);
  });

  it('names unknown codes by number', () => {
    expect(requestCodeName(12345)).toBe('UNKNOWN_12345');
    expect(responseCodeName(17)).toBe('TOPIC_NOT_EXIST');
    expect(responseCodeName(-1)).toBe('UNKNOWN_-1');
  });

  it('maps language names and numbers both ways', () => {
    expect(LanguageCode.NODE_JS).toBe(13);
    expect(languageCodeOf('GO')).toBe(9);
    expect(languageCodeOf('toString')).toBeUndefined();
    expect(languageNameOf(12)).toBe('RUST');
    expect(languageNameOf(99)).toBeUndefined();
  });

  it('uses the ordinals of MQVersion.Version', () => {
    expect(MQVersion).toEqual({ V3_0_11: 37, V4_9_4: 401, V4_9_8: 409, V5_3_3: 479, CURRENT: 479 });
  });
});
