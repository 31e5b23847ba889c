import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { get, getToken, login as apiLogin, post, setToken, setUnauthorizedHandler } from './api.js';

const AuthContext = createContext(null);

export function AuthProvider({ children }) {
  const [me, setMe] = useState(null);
  const [loading, setLoading] = useState(Boolean(getToken()));

  const loadMe = useCallback(async () => {
    if (!getToken()) {
      setMe(null);
      setLoading(false);
      return;
    }
    try {
      setMe(await get('/me'));
    } catch {
      setToken(null);
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    loadMe();
  }, [loadMe]);

  // Resolves to { mustChangePassword }: while true, only POST /auth/password is allowed, so
  // the caller is not loaded until changePassword() has run.
  const login = useCallback(async (username, password) => {
    const data = await apiLogin(username, password);
    if (data.must_change_password) return { mustChangePassword: true };
    setLoading(true);
    await loadMe();
    return { mustChangePassword: false };
  }, [loadMe]);

  const changePassword = useCallback(async (currentPassword, newPassword) => {
    await post('/auth/password', { current_password: currentPassword, new_password: newPassword });
    setLoading(true);
    await loadMe();
  }, [loadMe]);

  const logout = useCallback(() => {
    setToken(null);
    setMe(null);
  }, []);

  const hasRole = useCallback((...roles) => Boolean(me && roles.some((r) => me.roles.includes(r))), [me]);

  return (
    <AuthContext.Provider value={{ me, loading, login, changePassword, logout, hasRole }}>{children}</AuthContext.Provider>
  );
}

export function useAuth() {
  return useContext(AuthContext);
}
