import { useEffect, useState } from 'react';
import { get } from '../api.js';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth.jsx';
import { useLang, useT } from '../i18n.jsx';

export default function Login() {
  const { login, changePassword } = useAuth();
  const t = useT();
  const { lang, setLang } = useLang();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // After a reset or with a new account's one-time password: a new one first.
  const [mustChange, setMustChange] = useState(false);
  const [newPassword, setNewPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [demo, setDemo] = useState(null);

  // In demo mode the service lists its demo accounts (the endpoint exists only then).
  useEffect(() => {
    let live = true;
    get('/demo/accounts').then((d) => { if (live) setDemo(d); }).catch(() => {});
    return () => { live = false; };
  }, []);

  function choose(account) {
    setUsername(account.username);
    setPassword(demo.password);
  }

  async function submit(event) {
    event.preventDefault();
    setError('');
    if (!username || !password) {
      setError(t('请输入用户名和密码', 'Enter your user name and password'));
      return;
    }
    setBusy(true);
    try {
      const { mustChangePassword } = await login(username.trim(), password);
      if (mustChangePassword) {
        setMustChange(true);
        return;
      }
      goOn();
    } catch (err) {
      setError(err.status === 401 || err.status === 422
        ? t('用户名或密码错误', 'Wrong user name or password')
        : t('无法连接服务器', 'Cannot reach the server'));
    } finally {
      setBusy(false);
    }
  }

  function goOn() {
    const next = params.get('next');
    navigate(next && next.startsWith('/') && !next.startsWith('/login') ? next : '/inbox', { replace: true });
  }

  async function submitNewPassword(event) {
    event.preventDefault();
    setError('');
    if (newPassword !== confirm) {
      setError(t('两次输入的新密码不一致', 'The new passwords differ'));
      return;
    }
    setBusy(true);
    try {
      await changePassword(password, newPassword);
      goOn();
    } catch (err) {
      const problems = Array.isArray(err.body?.detail) ? err.body.detail.map((p) => p.message) : [];
      setError(problems.length ? problems.join('；') : t('无法修改密码', 'Cannot change the password'));
    } finally {
      setBusy(false);
    }
  }

  if (mustChange) {
    return (
      <div className="login-page">
        <form className="login-box" onSubmit={submitNewPassword} noValidate data-testid="change-password">
          <h1>{t('请设置新密码', 'Choose a new password')}</h1>
          <p className="muted">{t('您正在使用初始密码或重置后的密码，须先设置新密码。至少 8 位，不能全是数字，不能与用户名相同。', 'You are using a one-time password: choose a new one. At least 8 characters, not all digits, not your user name.')}</p>
          <label>
            {t('新密码', 'New password')}
            <input name="new_password" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNewPassword(e.target.value)} autoFocus />
          </label>
          <label>
            {t('确认新密码', 'Confirm')}
            <input name="confirm_password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
          </label>
          {error && <div className="error" role="alert">{error}</div>}
          <button type="submit" disabled={busy}>{t('保存并继续', 'Save and continue')}</button>
        </form>
      </div>
    );
  }

  return (
    <div className="login-page">
      <form className="login-box" onSubmit={submit} noValidate>
        <h1>{t('学籍管理工作流', 'Student records workflow')}</h1>
        <p className="muted">{t('继续教育学院 · 学籍管理', 'College of continuing education · student records')}</p>
        <label>
          {t('用户名', 'User name')}
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        </label>
        <label>
          {t('密码', 'Password')}
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && <div className="error" role="alert">{error}</div>}
        <button type="submit" disabled={busy}>{busy ? t('登录中…', 'Logging in…') : t('登录', 'Log in')}</button>
        <button type="button" className="link lang" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
          {lang === 'zh' ? 'English' : '中文'}
        </button>
      </form>
      {demo && (
        <section className="login-box demo-accounts" data-testid="demo-accounts" aria-labelledby="demo-accounts-title">
          <h2 id="demo-accounts-title">{t('演示账号', 'Demo accounts')}</h2>
          <p className="muted small">{t(`演示模式：以下账号的密码均为 ${demo.password}，点击用户名即可填入。`, `Demo mode: every account's password is ${demo.password}; click a user name to fill it in.`)}</p>
          <table className="grid compact">
            <thead><tr><th>{t('用户名', 'User name')}</th><th>{t('姓名', 'Name')}</th><th>{t('角色', 'Role')}</th></tr></thead>
            <tbody>
              {demo.accounts.map((a) => (
                <tr key={a.username}>
                  <td><button type="button" className="link" onClick={() => choose(a)}>{a.username}</button></td>
                  <td>{a.name}</td>
                  <td>{a.role}{a.station ? ` · ${a.station}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
