// The REST client: bearer token from localStorage, JSON in and out, errors as ApiError.
const TOKEN_KEY = 'xueji.token';
export const API = '/api/v1';

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.detail === 'string' ? body.detail : body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export async function request(method, path, { json, form, params, raw } = {}) {
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let url = path.startsWith('/api/') ? path : API + path;
  if (params) {
    const query = new URLSearchParams();
    Object.entries(params).forEach(([key, value]) => {
      if (value !== undefined && value !== null && value !== '' && value !== false) query.set(key, value);
    });
    const text = query.toString();
    if (text) url += `?${text}`;
  }
  const response = await fetch(url, { method, headers, body });
  if (response.status === 401 && token) {
    setToken(null);
    onUnauthorized();
  }
  if (!response.ok) {
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    throw new ApiError(response.status, payload);
  }
  if (raw === 'text') return response.text();
  if (raw === 'blob') return response;
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

export const get = (path, params) => request('GET', path, { params });
export const post = (path, json) => request('POST', path, { json: json ?? {} });
export const getText = (path, params) => request('GET', path, { params, raw: 'text' });

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch(`${API}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const data = await response.json();
  setToken(data.access_token);
  return data;
}

// Downloads go through fetch (the token is a header, not a cookie) and a blob URL.
export function downloadUpload(id, fallbackName) {
  return downloadFile(`/uploads/${id}/content`, fallbackName || `upload-${id}`);
}

export async function downloadFile(path, fallbackName) {
  const response = await request('GET', path, { raw: 'blob' });
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') || '';
  const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

let openapi = null;
// Endpoints that other engineers are still adding: ask the OpenAPI whether they exist.
export async function hasEndpoint(path, method = 'post') {
  if (!openapi) {
    openapi = fetch('/openapi.json').then((r) => (r.ok ? r.json() : { paths: {} })).catch(() => ({ paths: {} }));
  }
  const spec = await openapi;
  return Boolean(spec.paths?.[path]?.[method]);
}

// Server messages are jsonschema's English; say the common ones in Chinese.
export function translateServerMessage(message, t) {
  if (!message) return '';
  const rules = [
    [/is a required property|is required/, t('此项为必填项', 'This field is required')],
    [/does not match/, t('格式不正确', 'Wrong format')],
    [/is too short|should be non-empty|non-empty/, t('内容太短', 'Too short')],
    [/is too long|has too many/, t('内容太长', 'Too long')],
    [/is not one of/, t('不在可选范围内', 'Not one of the allowed values')],
    [/is not of type/, t('类型不正确', 'Wrong type')],
    [/is not a '?date'?/, t('日期格式不正确', 'Not a valid date')],
    [/less than the minimum|is less than/, t('数值太小', 'Too small')],
    [/greater than the maximum|is greater than/, t('数值太大', 'Too large')],
    [/Additional properties/, t('包含不允许的字段', 'Unexpected field')],
  ];
  for (const [pattern, text] of rules) if (pattern.test(message)) return text;
  return message;
}

export function errorText(error, t) {
  if (!error) return '';
  if (!(error instanceof ApiError)) return t('网络错误：', 'Network error: ') + error.message;
  const body = error.body;
  if (error.status === 404) return t('未找到（或无权查看）', 'Not found (or not yours to see)');
  if (error.status === 403) return t('没有权限', 'Not allowed');
  if (error.status === 409) {
    const detail = typeof body?.detail === 'string' ? body.detail : '';
    return t('任务已被办理、已被他人认领或流程已前进', 'Already done, claimed by someone else, or moved on') + (detail ? `（${detail}）` : '');
  }
  if (Array.isArray(body?.detail)) {
    return body.detail
      .map((d) => [d.field || d.element_id || d.file, translateServerMessage(d.message, t)].filter(Boolean).join('：'))
      .join('；');
  }
  if (body?.detail && typeof body.detail === 'object') return body.detail.message || JSON.stringify(body.detail);
  if (typeof body?.detail === 'string') return body.detail;
  return `${t('请求失败', 'Request failed')} (HTTP ${error.status})`;
}
