import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { errorText, get, post } from '../api.js';
import { useAuth } from '../auth.jsx';
import { useT } from '../i18n.jsx';
import { ErrorBox, useDefinitions } from '../components/common.jsx';
import NotFound from './NotFound.jsx';

// "old_id=new_id" per line: the element pairs of the plan (others keep their id).
function parsePairs(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [source, target] = line.split('=').map((part) => part.trim());
    return { source, target };
  });
}

function Report({ report }) {
  const t = useT();
  return (
    <div data-testid="migration-report">
      <p className="notice" role="status">
        {t(
          `共 ${report.total} 个实例：可迁移 ${report.movable}，受阻 ${report.blocked}，已迁移 ${report.migrated}，失败 ${report.failed}`,
          `${report.total} instances: ${report.movable} movable, ${report.blocked} blocked, ${report.migrated} migrated, ${report.failed} failed`,
        )}
      </p>
      <table className="grid">
        <thead><tr><th>{t('实例', 'Instance')}</th><th>{t('业务编号', 'Business key')}</th><th>{t('版本', 'Version')}</th><th>{t('活动环节', 'Active elements')}</th><th>{t('阻碍', 'Blockers')}</th><th>{t('结果', 'Outcome')}</th></tr></thead>
        <tbody>
          {report.instances.map((item) => (
            <tr key={item.id} data-testid="migration-row" className={item.blockers.length ? 'blocked' : ''}>
              <td><Link to={`/instances/${item.id}`} className="mono">{item.id.slice(0, 8)}</Link></td>
              <td>{item.business_key || '—'}</td>
              <td>v{item.version}</td>
              <td>{item.moves.map((m) => <div key={m.task_id}><code>{m.source}</code> → <code>{m.target}</code> {m.target_name}</div>)}</td>
              <td data-testid="blockers">{item.blockers.map((b, i) => <div key={i} className="error-text"><code>{b.code}</code> {b.message}</div>)}</td>
              <td>{item.outcome === 'migrated' ? t('已迁移', 'migrated') : item.outcome === 'blocked' ? t('受阻', 'blocked') : item.outcome === 'failed' ? t('失败', 'failed') : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function MigrationPage() {
  const t = useT();
  const { hasRole } = useAuth();
  const definitions = useDefinitions();
  const [key, setKey] = useState('');
  const [versions, setVersions] = useState([]);
  const [target, setTarget] = useState('');
  const [source, setSource] = useState('');
  const [businessKey, setBusinessKey] = useState('');
  const [pairs, setPairs] = useState('');
  const [report, setReport] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setVersions([]);
    setReport(null);
    if (!key) return;
    get(`/process-definitions/${key}`).then((d) => {
      const all = [...(d.versions || [d.version])].sort((a, b) => a - b);
      setVersions(all);
      setTarget(String(all[all.length - 1]));
    }).catch((err) => setError(errorText(err, t)));
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!hasRole('admin')) return <NotFound />;

  function plan() {
    return {
      key,
      target_version: Number(target),
      pairs: parsePairs(pairs),
      filter: { version: source ? Number(source) : null, business_key: businessKey || null },
    };
  }

  async function run(path) {
    setBusy(true);
    setError('');
    try {
      setReport(await post(path, plan()));
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page migration-page">
      <div className="page-head"><h1>{t('实例迁移', 'Instance migration')}</h1></div>
      <p className="muted">{t('把运行中的实例迁移到同一流程的另一版本：活动环节默认按相同编号对应，编号改变的环节请逐行填写“旧编号=新编号”。先试运行查看每个实例的迁移情况与阻碍，再执行。', 'Move running instances to another version of the same process: active elements map to the same id by default; for a changed id write "old=new" per line. Dry-run first to see each instance and what blocks it, then execute.')}</p>
      <form className="card" onSubmit={(e) => { e.preventDefault(); run('/migrations/dry-run'); }}>
        <label>{t('流程', 'Process')}
          <select value={key} onChange={(e) => setKey(e.target.value)} data-testid="migration-key" required>
            <option value="">{t('请选择', 'Choose')}</option>
            {definitions.filter((d) => d.kind !== 'dmn').map((d) => <option key={d.key} value={d.key}>{d.name}（{d.key}）</option>)}
          </select>
        </label>
        <label>{t('目标版本', 'Target version')}
          <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="migration-target">
            {versions.map((v) => <option key={v} value={v}>v{v}</option>)}
          </select>
        </label>
        <label>{t('仅迁移此版本的实例', 'Only instances of version')}
          <select value={source} onChange={(e) => setSource(e.target.value)} data-testid="migration-source">
            <option value="">{t('全部', 'All')}</option>
            {versions.map((v) => <option key={v} value={v}>v{v}</option>)}
          </select>
        </label>
        <label>{t('业务编号前缀', 'Business key prefix')}
          <input value={businessKey} onChange={(e) => setBusinessKey(e.target.value)} data-testid="migration-business-key" />
        </label>
        <label>{t('环节对应（旧编号=新编号，每行一个）', 'Element pairs (old=new, one a line)')}
          <textarea rows={3} value={pairs} onChange={(e) => setPairs(e.target.value)} data-testid="migration-pairs" />
        </label>
        <div className="toolbar">
          <button type="submit" disabled={!key || busy} data-testid="migration-dry-run">{t('试运行', 'Dry run')}</button>
          <button type="button" className="danger" disabled={!key || busy || !report} onClick={() => run('/migrations')} data-testid="migration-execute">{t('执行迁移', 'Execute')}</button>
        </div>
      </form>
      <ErrorBox>{error}</ErrorBox>
      {report && <Report report={report} />}
    </div>
  );
}
