import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { get, getToken, login as apiLogin, setToken, setUnauthorizedHandler } from './api.js';

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

  const login = useCallback(async (username, password) => {
    await apiLogin(username, password);
    setLoading(true);
    await loadMe();
  }, [loadMe]);

  const logout = useCallback(() => {
    setToken(null);
    setMe(null);
  }, []);

  const hasRole = useCallback((...roles) => Boolean(me && roles.some((r) => me.roles.includes(r))), [me]);

  return (
    <AuthContext.Provider value={{ me, loading, login, logout, hasRole }}>{children}</AuthContext.Provider>
  );
}

export function useAuth() {
  return useContext(AuthContext);
}
