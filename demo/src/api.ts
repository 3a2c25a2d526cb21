/** The server calls of the demo (DESIGN.md "Server"); errors come back as `{error, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { credentials: 'same-origin', ...init });
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const e = (body ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, e.error ?? `HTTP_${res.status}`, e.message ?? String(body));
  }
  return body as T;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export interface DevDepartment {
  id: string;
  name: string;
  creditCode: string;
  region: string;
  apiKey: string;
  seal: { p12: string; password: string };
}

export interface RegistryLicence {
  id: string;
  status: string;
  number: string;
  typeCode: string;
  typeName: string;
  page: string;
  file: string;
}

export const api = {
  devToken: (name: string, idNumber: string) =>
    call<{ token: string }>('/api/dev/token', json({ name, idNumber })),
  devDepartment: () => call<DevDepartment>('/api/dev/department'),
  holderLicences: (token: string, type: string) =>
    call<{ licences: RegistryLicence[] }>(`/api/licences?type=${encodeURIComponent(type)}`, {
      headers: { authorization: `Bearer ${token}` },
    }),
  register: (apiKey: string, pdf: Uint8Array) =>
    call<RegistryLicence>('/api/licences', {
      method: 'POST',
      headers: { 'content-type': 'application/pdf', 'x-api-key': apiKey },
      body: pdf as Uint8Array<ArrayBuffer>,
    }),
  /** status: 'cancelled' (注销, e.g. at the holder's request), 'revoked' (吊销, a penalty) or 'suspended' (中止). */
  revoke: (apiKey: string, id: string, reason: string, status: 'cancelled' | 'revoked' | 'suspended') =>
    call<RegistryLicence>(
      `/api/licences/${encodeURIComponent(id)}/revoke`,
      json({ reason, status }, { 'x-api-key': apiKey }),
    ),
  enrol: (token: string, csrPem: string) =>
    call<{ serialNumber: string; certificate: string; chain: string[] }>(
      '/api/enrol',
      json({ csr: csrPem }, { authorization: `Bearer ${token}` }),
    ),
  licenceFile: async (id: string) => {
    const res = await fetch(`/api/licences/${encodeURIComponent(id)}/file`);
    if (!res.ok) throw new ApiError(res.status, 'LICENCE_FILE', `cannot fetch the licence (${res.status})`);
    return new Uint8Array(await res.arrayBuffer());
  },
};

export function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return base64ToBytes(b64);
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
