import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth.jsx';
import { useLang, useT } from '../i18n.jsx';

export default function Login() {
  const { login } = useAuth();
  const t = useT();
  const { lang, setLang } = useLang();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const [params] = useSearchParams();

  async function submit(event) {
    event.preventDefault();
    setError('');
    if (!username || !password) {
      setError(t('请输入用户名和密码', 'Enter your user name and password'));
      return;
    }
    setBusy(true);
    try {
      await login(username.trim(), password);
      const next = params.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('/login') ? next : '/inbox', { replace: true });
    } catch (err) {
      setError(err.status === 401 || err.status === 422
        ? t('用户名或密码错误', 'Wrong user name or password')
        : t('无法连接服务器', 'Cannot reach the server'));
    } finally {
      setBusy(false);
    }
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
    </div>
  );
}
