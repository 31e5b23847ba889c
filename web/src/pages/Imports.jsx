import { useEffect, useState } from 'react';
import { downloadFile, get, request } from '../api.js';
import { useAuth } from '../auth.jsx';
import { useT } from '../i18n.jsx';
import { ErrorBox } from '../components/common.jsx';

// kind, 中文, English, roles that may import it (admin may import every kind)
const KINDS = [
  ['admissions', '招生录取库', 'Admissions list', ['registrar']],
  ['registration', '新生学籍注册标准库', 'New-student registration', ['registrar', 'station']],
  ['graduates', '毕业生学历注册标准库', 'Graduate registration', ['registrar']],
  ['grades', '成绩登记表', 'Grade sheet', ['grades', 'registrar', 'station']],
];
const STATES = {
  queued: ['排队中', 'Queued'],
  running: ['导入中', 'Importing'],
  done: ['已完成', 'Done'],
  rejected: ['有错误，未写入', 'Rejected, nothing written'],
  failed: ['失败', 'Failed'],
};

export default function ImportsPage() {
  const t = useT();
  const { hasRole } = useAuth();
  const kinds = KINDS.filter(([, , , roles]) => hasRole('admin') || roles.some((r) => hasRole(r)));
  const [kind, setKind] = useState(kinds[0]?.[0] || '');
  const [file, setFile] = useState(null);
  const [validOnly, setValidOnly] = useState(false);
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  // A large file is a job: poll its percent until it ends.
  useEffect(() => {
    if (!job || !['queued', 'running'].includes(job.state)) return undefined;
    const timer = setTimeout(() => get(`/imports/jobs/${job.id}`).then(setJob, setError), 1000);
    return () => clearTimeout(timer);
  }, [job]);

  async function submit(event) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setJob(null);
    const form = new FormData();
    form.append('file', file);
    form.append('mode', validOnly ? 'valid_only' : 'all_or_nothing');
    try {
      setJob(await request('POST', `/imports/${kind}`, { form }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (!kinds.length) return <div className="page"><p className="muted">{t('没有可导入的数据', 'Nothing to import')}</p></div>;
  const title = (key) => { const k = KINDS.find(([id]) => id === key); return k ? t(k[1], k[2]) : key; };
  return (
    <div className="page" data-testid="imports-page">
      <div className="page-head"><h1>{t('数据导入', 'Imports')}</h1></div>
      <form className="card" onSubmit={submit}>
        <label>{t('导入内容', 'What')}{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="import-kind">
            {kinds.map(([id]) => <option key={id} value={id}>{title(id)}</option>)}
          </select>
        </label>{' '}
        <button type="button" className="link" onClick={() => downloadFile(`/imports/${kind}/template`, `${title(kind)}模板.xlsx`)}>
          {t('下载空白模板', 'Download the empty template')}
        </button>
        <p>
          <input type="file" accept=".xlsx,.csv" data-testid="import-file" onChange={(e) => setFile(e.target.files[0] || null)} />
        </p>
        <label>
          <input type="checkbox" checked={validOnly} onChange={(e) => setValidOnly(e.target.checked)} />{' '}
          {t('只导入校验通过的行（其余行列出问题）', 'Import only the valid rows (report the others)')}
        </label>
        <p><button type="submit" disabled={!file || busy} data-testid="import-submit">{t('导入', 'Import')}</button></p>
      </form>
      {error && <ErrorBox error={error} />}
      {job && (
        <div className="card" data-testid="import-job">
          <p>
            <strong data-testid="import-state">{t(...(STATES[job.state] || [job.state, job.state]))}</strong>{' '}
            <progress max="100" value={job.percent} /> <span data-testid="import-percent">{job.percent}%</span>{' '}
            {t(`共 ${job.total_rows} 行，写入 ${job.written_rows} 行`, `${job.total_rows} rows, ${job.written_rows} written`)}
          </p>
          {job.error && <p className="error">{job.error}</p>}
          {job.report && (
            <button type="button" className="secondary" onClick={() => downloadFile(job.report, `${title(job.kind)}导入校验结果.xlsx`)}>
              {t('下载校验结果（问题单元格已标出）', 'Download the report (bad cells marked)')}
            </button>
          )}
          {job.problems.length > 0 && (
            <table className="grid" data-testid="import-problems">
              <thead><tr><th>{t('行', 'Row')}</th><th>{t('列', 'Column')}</th><th>{t('问题', 'Problem')}</th></tr></thead>
              <tbody>
                {job.problems.slice(0, 200).map((p, i) => (
                  <tr key={i}><td>{p.row}</td><td>{p.column || '—'}</td><td>{p.message}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
