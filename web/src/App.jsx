import { lazy, Suspense } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth.jsx';
import { roleName, useLang, useT } from './i18n.jsx';
import Login from './pages/Login.jsx';
import Inbox from './pages/Inbox.jsx';
import { Notifications } from './components/Outcomes.jsx';
import TaskPage from './pages/Task.jsx';
import BatchPage from './pages/Batch.jsx';
import StartPage from './pages/Start.jsx';
import InstancesPage from './pages/Instances.jsx';
import InstancePage from './pages/Instance.jsx';
import StudentsPage from './pages/Students.jsx';
import StudentPage from './pages/Student.jsx';
import StatisticsPage from './pages/Statistics.jsx';
import AdminPage from './pages/Admin.jsx';
import ImportsPage from './pages/Imports.jsx';
import MigrationPage from './pages/Migration.jsx';
import IncidentsPage from './pages/Incidents.jsx';
import AuditPage from './pages/Audit.jsx';
import NotFound from './pages/NotFound.jsx';

// The modeler (bpmn-js Modeler + properties panel) is the heaviest page: its own chunk.
const ModelerPage = lazy(() => import('./pages/Modeler.jsx'));

function Header() {
  const { me, logout, hasRole } = useAuth();
  const { lang, setLang } = useLang();
  const t = useT();
  return (
    <header className="topbar">
      <div className="brand">{t('学籍管理工作流', 'Student records workflow')}</div>
      <nav>
        <NavLink to="/inbox">{t('待办任务', 'Inbox')}</NavLink>
        <NavLink to="/start">{t('发起流程', 'Start')}</NavLink>
        <NavLink to="/instances">{t('流程实例', 'Instances')}</NavLink>
        {!hasRole('student') && <NavLink to="/students">{t('学生学籍', 'Students')}</NavLink>}
        {!hasRole('student') && <NavLink to="/statistics">{t('学籍统计', 'Statistics')}</NavLink>}
        {['admin', 'registrar', 'station', 'grades'].some((r) => hasRole(r)) && <NavLink to="/imports">{t('数据导入', 'Imports')}</NavLink>}
        {hasRole('student') && me?.student && <NavLink to={`/students/${me.student}`}>{t('我的学籍', 'My record')}</NavLink>}
        {hasRole('admin') && <NavLink to="/incidents">{t('故障处理', 'Incidents')}</NavLink>}
        {hasRole('admin') && <NavLink to="/migrations">{t('实例迁移', 'Migration')}</NavLink>}
        {hasRole('admin') && <NavLink to="/admin">{t('系统管理', 'Administration')}</NavLink>}
        {hasRole('admin') && <NavLink to="/audit">{t('审计日志', 'Audit log')}</NavLink>}
      </nav>
      <div className="user">
        <Notifications />
        <button type="button" className="link lang" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
          {lang === 'zh' ? 'English' : '中文'}
        </button>
        <span className="who" data-testid="whoami">
          {me.display_name}（{me.roles.map((r) => roleName(r, lang)).join('、')}{me.station ? ` · ${me.station}` : ''}）
        </span>
        <button type="button" className="secondary" onClick={logout}>{t('退出登录', 'Log out')}</button>
      </div>
    </header>
  );
}

export default function App() {
  const { me, loading } = useAuth();
  const location = useLocation();
  const t = useT();
  if (loading) return <div className="loading page">{t('加载中…', 'Loading…')}</div>;
  if (!me) {
    if (location.pathname !== '/login') {
      return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
    }
    return <Login />;
  }
  return (
    <div className="app">
      <Header />
      <main>
        <Suspense fallback={<div className="loading">{t('加载中…', 'Loading…')}</div>}>
          <Routes>
            <Route path="/" element={<Navigate to="/inbox" replace />} />
            <Route path="/login" element={<Navigate to="/inbox" replace />} />
            <Route path="/inbox" element={<Inbox />} />
            <Route path="/tasks/batch" element={<BatchPage />} />
            <Route path="/tasks/:id" element={<TaskPage />} />
            <Route path="/start" element={<StartPage />} />
            <Route path="/start/:key" element={<StartPage />} />
            <Route path="/instances" element={<InstancesPage />} />
            <Route path="/instances/:id" element={<InstancePage />} />
            <Route path="/students" element={<StudentsPage />} />
            <Route path="/students/:id" element={<StudentPage />} />
            <Route path="/statistics" element={<StatisticsPage />} />
            <Route path="/imports" element={<ImportsPage />} />
            <Route path="/incidents" element={<IncidentsPage />} />
            <Route path="/migrations" element={<MigrationPage />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/admin" element={<AdminPage />} />
            <Route path="/admin/:tab" element={<AdminPage />} />
            <Route path="/admin/modeler/:key" element={<ModelerPage />} />
            <Route path="/modeler" element={<ModelerPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}
