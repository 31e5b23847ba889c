import { useRef, useState } from 'react';
import { Link, NavLink, useParams } from 'react-router-dom';
import { ApiError, errorText, get, post, request } from '../api.js';
import { useAuth } from '../auth.jsx';
import { roleName, ROLES, STATES, useLang, useT } from '../i18n.jsx';
import { ErrorBox, forget, Loading, Time, useLoad } from '../components/common.jsx';
import NotFound from './NotFound.jsx';

function Definitions() {
  const t = useT();
  const { lang } = useLang();
  const fileRef = useRef(null);
  const [problems, setProblems] = useState(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const list = useLoad(async () => {
    const items = await get('/process-definitions');
    return Promise.all(items.map(async (d) => {
      if (d.kind === 'dmn') return { ...d, versions: [d.version], instance_counts: {} };
      try {
        return { ...d, ...(await get(`/process-definitions/${d.key}`)) };
      } catch {
        return { ...d, versions: [d.version], instance_counts: {} };
      }
    }));
  }, []);

  async function upload(event) {
    const files = [...event.target.files];
    event.target.value = '';
    if (!files.length) return;
    setProblems(null);
    setMessage('');
    setError('');
    const form = new FormData();
    files.forEach((f) => form.append('files', f));
    try {
      const result = await request('POST', '/deployments', { form });
      forget('definitions');
      forget('definition:');
      setMessage(t('已部署：', 'Deployed: ') + result.definitions.map((d) => `${d.name} v${d.version}`).join('、'));
      list.reload();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body?.detail)) {
        setProblems(err.body.detail);
        setError(t('部署失败：文件中存在问题。', 'Not deployed: the files have problems.'));
      } else {
        setError(errorText(err, t));
      }
    }
  }

  return (
    <div>
      <div className="toolbar">
        <Link className="button" to="/modeler">{t('新建流程', 'New process')}</Link>
        <button type="button" className="secondary" onClick={() => fileRef.current.click()}>{t('上传 .bpmn / 表单文件并部署', 'Upload .bpmn / form files and deploy')}</button>
        <input ref={fileRef} type="file" multiple accept=".bpmn,.dmn,.json,.xml" hidden onChange={upload} data-testid="deploy-files" />
      </div>
      {message && <div className="notice" role="status">{message}</div>}
      <ErrorBox>{error}</ErrorBox>
      {problems && (
        <ul className="problems">{problems.map((p, i) => <li key={i}><code>{p.file}{p.line ? `:${p.line}` : ''}</code> {p.element_id && <code>{p.element_id}</code>} {p.message}</li>)}</ul>
      )}
      {list.loading && !list.data ? <Loading /> : list.error ? <ErrorBox error={list.error} /> : (
        <table className="grid" data-testid="definitions">
          <thead><tr><th>{t('流程', 'Process')}</th><th>{t('编号', 'Key')}</th><th>{t('最新版本', 'Latest')}</th><th>{t('全部版本', 'Versions')}</th><th>{t('实例数', 'Instances')}</th><th>{t('部署人', 'Deployed by')}</th><th>{t('部署时间', 'Deployed')}</th><th /></tr></thead>
          <tbody>
            {list.data.map((d) => (
              <tr key={`${d.kind}:${d.key}`} data-testid="definition-row" data-key={d.key}>
                <td>{d.name} {d.kind === 'dmn' && <span className="badge">DMN</span>}</td>
                <td className="mono">{d.key}</td>
                <td data-testid="latest-version">v{d.version}</td>
                <td>{d.kind === 'dmn' ? `v${d.version}` : [...(d.versions || [])].sort((a, b) => a - b).map((v) => <Link key={v} className="version-link" to={`/admin/modeler/${d.key}?version=${v}`}>v{v}</Link>)}</td>
                <td>{Object.entries(d.instance_counts || {}).map(([s, n]) => <span key={s} className="kv">{STATES[s] ? STATES[s][lang === 'en' ? 1 : 0] : s} {n}</span>)}{!Object.keys(d.instance_counts || {}).length && <span className="muted">0</span>}</td>
                <td>{d.deployed_by}</td>
                <td><Time value={d.deployed_at} /></td>
                <td>{d.kind !== 'dmn' && <Link to={`/admin/modeler/${d.key}`} data-testid={`model-${d.key}`}>{t('打开建模器', 'Open in modeler')}</Link>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Users() {
  const t = useT();
  const { lang } = useLang();
  const users = useLoad(() => get('/users'), []);
  const [form, setForm] = useState({ username: '', display_name: '', password: '', roles: [], station: '' });
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  async function create(event) {
    event.preventDefault();
    setError('');
    setMessage('');
    if (!form.username || !form.display_name || form.password.length < 8 || !form.roles.length) {
      setError(t('请填写用户名、姓名、至少 8 位的密码，并选择至少一个角色。', 'Fill in user name, name, a password of 8+ characters and at least one role.'));
      return;
    }
    try {
      await post('/users', { ...form, station: form.station || null });
      setMessage(t(`已创建用户 ${form.username}`, `Created ${form.username}`));
      setForm({ username: '', display_name: '', password: '', roles: [], station: '' });
      users.reload();
    } catch (err) {
      setError(err.status === 409 ? t('用户名已存在', 'That user name is taken') : errorText(err, t));
    }
  }
  async function setActive(user, active) {
    setError('');
    setMessage('');
    try {
      await request('PATCH', `/users/${encodeURIComponent(user.username)}`, { json: { is_active: active } });
      users.reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  }
  async function resetPassword(user) {
    setError('');
    setMessage('');
    if (!window.confirm(t(`重置 ${user.username} 的密码？其登录将全部失效。`, `Reset the password of ${user.username}? Their sessions end.`))) return;
    try {
      const reset = await post(`/users/${encodeURIComponent(user.username)}/password-reset`);
      setMessage(t(`${user.username} 的一次性密码：${reset.password}（仅显示这一次；首次登录时须修改）`, `One-time password of ${user.username}: ${reset.password} (shown once; to be changed at first login)`));
      users.reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  }
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  return (
    <div>
      {message && <div className="notice" data-testid="users-message">{message}</div>}
      {users.loading && !users.data ? <Loading /> : users.error ? <ErrorBox error={users.error} /> : (
        <table className="grid">
          <thead><tr><th>{t('用户名', 'User name')}</th><th>{t('姓名', 'Name')}</th><th>{t('角色', 'Roles')}</th><th>{t('函授站', 'Station')}</th><th>{t('状态', 'Active')}</th><th>{t('操作', 'Actions')}</th></tr></thead>
          <tbody>{users.data.map((u) => (
            <tr key={u.username} data-testid={`user-${u.username}`}>
              <td className="mono">{u.username}</td><td>{u.display_name}</td><td>{u.roles.map((r) => roleName(r, lang)).join('、')}</td><td>{u.station || '—'}</td>
              <td>{u.is_active ? t('启用', 'active') : t('停用', 'inactive')}{u.must_change_password ? t('（待改密码）', ' (must change password)') : ''}</td>
              <td>
                <button type="button" className="link" onClick={() => setActive(u, !u.is_active)}>{u.is_active ? t('停用', 'Disable') : t('启用', 'Enable')}</button>
                {' '}
                <button type="button" className="link" data-testid="reset-password" onClick={() => resetPassword(u)}>{t('重置密码', 'Reset password')}</button>
              </td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <form className="card inline-form" onSubmit={create} noValidate>
        <h3>{t('新建用户', 'New user')}</h3>
        <label>{t('用户名', 'User name')}<input value={form.username} onChange={set('username')} /></label>
        <label>{t('姓名', 'Name')}<input value={form.display_name} onChange={set('display_name')} /></label>
        <label>{t('密码（至少 8 位）', 'Password (8+)')}<input type="password" value={form.password} onChange={set('password')} /></label>
        <label>{t('函授站（站点人员填写）', 'Station (station staff)')}<input value={form.station} onChange={set('station')} placeholder="S01" /></label>
        <fieldset className="roles"><legend>{t('角色', 'Roles')}</legend>
          {Object.keys(ROLES).map((r) => (
            <label key={r} className="check">
              <input type="checkbox" checked={form.roles.includes(r)} onChange={(e) => setForm({ ...form, roles: e.target.checked ? [...form.roles, r] : form.roles.filter((x) => x !== r) })} />
              {roleName(r, lang)}
            </label>
          ))}
        </fieldset>
        <ErrorBox>{error}</ErrorBox>
        <button type="submit">{t('创建', 'Create')}</button>
      </form>
    </div>
  );
}

function Stations() {
  const t = useT();
  const stations = useLoad(() => get('/stations'), []);
  const [form, setForm] = useState({ code: '', name: '' });
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  async function create(event) {
    event.preventDefault();
    setError('');
    setMessage('');
    if (!form.code || !form.name) {
      setError(t('请填写函授站代码和名称。', 'Fill in the station code and name.'));
      return;
    }
    try {
      await post('/stations', form);
      setMessage(t(`已添加函授站 ${form.code}`, `Added station ${form.code}`));
      setForm({ code: '', name: '' });
      stations.reload();
    } catch (err) {
      setError(err.status === 409 ? t('该代码已存在', 'That code is taken') : errorText(err, t));
    }
  }
  async function rename(code, current) {
    const name = window.prompt(t('新的函授站名称', 'New station name'), current);
    if (!name || name === current) return;
    try {
      await request('PUT', `/stations/${encodeURIComponent(code)}`, { json: { name } });
      stations.reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  }
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  return (
    <div>
      {stations.loading && !stations.data ? <Loading /> : stations.error ? <ErrorBox error={stations.error} /> : (
        <table className="grid">
          <thead><tr><th>{t('代码', 'Code')}</th><th>{t('名称', 'Name')}</th><th>{t('人员账号', 'Staff')}</th><th>{t('学生', 'Students')}</th><th></th></tr></thead>
          <tbody>{stations.data.map((s) => (
            <tr key={s.code}><td className="mono">{s.code}</td><td>{s.name}</td><td>{s.staff}</td><td>{s.students}</td>
              <td><button type="button" className="link" onClick={() => rename(s.code, s.name)}>{t('改名', 'Rename')}</button></td></tr>
          ))}</tbody>
        </table>
      )}
      <form className="card inline-form" onSubmit={create} noValidate>
        <h3>{t('新增函授站', 'New station')}</h3>
        <label>{t('代码', 'Code')}<input value={form.code} onChange={set('code')} placeholder="S03" /></label>
        <label>{t('名称', 'Name')}<input value={form.name} onChange={set('name')} placeholder="开封函授站" /></label>
        <ErrorBox>{error}</ErrorBox>
        {message && <div className="notice">{message}</div>}
        <button type="submit">{t('添加', 'Add')}</button>
      </form>
    </div>
  );
}

function Tokens() {
  const t = useT();
  const { lang } = useLang();
  const tokens = useLoad(() => get('/api-tokens'), []);
  const [form, setForm] = useState({ name: '', role: 'chsi', station: '', days: '' });
  const [created, setCreated] = useState(null);
  const [error, setError] = useState('');
  async function create(event) {
    event.preventDefault();
    setError('');
    setCreated(null);
    if (!form.name) { setError(t('请填写名称', 'Enter a name')); return; }
    try {
      const result = await post('/api-tokens', { name: form.name, role: form.role, station: form.station || null, days: form.days ? Number(form.days) : null });
      setCreated(result);
      tokens.reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  }
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  return (
    <div>
      {tokens.loading && !tokens.data ? <Loading /> : tokens.error ? <ErrorBox error={tokens.error} /> : tokens.data.length === 0 ? <p className="muted">{t('暂无 API 令牌', 'No API tokens')}</p> : (
        <table className="grid">
          <thead><tr><th>{t('名称', 'Name')}</th><th>{t('角色', 'Role')}</th><th>{t('函授站', 'Station')}</th><th>{t('创建时间', 'Created')}</th><th>{t('到期时间', 'Expires')}</th></tr></thead>
          <tbody>{tokens.data.map((x) => <tr key={x.id}><td>{x.name}</td><td>{roleName(x.role, lang)}</td><td>{x.station || '—'}</td><td><Time value={x.created_at} /></td><td>{x.expires_at ? <Time value={x.expires_at} /> : t('不过期', 'never')}</td></tr>)}</tbody>
        </table>
      )}
      <form className="card inline-form" onSubmit={create} noValidate>
        <h3>{t('新建 API 令牌（供系统对接使用）', 'New API token (for integrations)')}</h3>
        <label>{t('名称', 'Name')}<input value={form.name} onChange={set('name')} /></label>
        <label>{t('角色', 'Role')}
          <select value={form.role} onChange={set('role')}>{Object.keys(ROLES).map((r) => <option key={r} value={r}>{roleName(r, lang)}</option>)}</select>
        </label>
        <label>{t('函授站', 'Station')}<input value={form.station} onChange={set('station')} placeholder="S01" /></label>
        <label>{t('有效天数', 'Days valid')}<input value={form.days} onChange={set('days')} inputMode="numeric" /></label>
        <ErrorBox>{error}</ErrorBox>
        <button type="submit">{t('创建', 'Create')}</button>
        {created?.token && (
          <div className="notice token">{t('令牌只显示这一次，请妥善保存：', 'Shown once only; keep it safe:')}<code>{created.token}</code></div>
        )}
      </form>
    </div>
  );
}

export default function AdminPage() {
  const { tab = 'definitions' } = useParams();
  const t = useT();
  const { hasRole } = useAuth();
  if (!hasRole('admin')) return <NotFound />;
  const tabs = [
    ['definitions', t('流程定义', 'Definitions')],
    ['users', t('用户与角色', 'Users and roles')],
    ['stations', t('函授站', 'Stations')],
    ['tokens', t('API 令牌', 'API tokens')],
  ];
  return (
    <div className="page admin-page">
      <div className="page-head"><h1>{t('系统管理', 'Administration')}</h1></div>
      <div className="tabs">
        {tabs.map(([name, label]) => <NavLink key={name} to={`/admin/${name}`} className={() => (tab === name ? 'tab active' : 'tab')}>{label}</NavLink>)}
      </div>
      {tab === 'definitions' && <Definitions />}
      {tab === 'users' && <Users />}
      {tab === 'stations' && <Stations />}
      {tab === 'tokens' && <Tokens />}
    </div>
  );
}
