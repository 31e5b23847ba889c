// Point 5 of issue 12: what applicants and stations are told. The notification area (the
// outcomes of reviews and the ends of cases, GET /notifications), the outcome of a case in
// a list, and the sentence that says where a case goes after a step and by when.
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { get } from '../api.js';
import { processName, useDefinitions } from './common.jsx';
import { formatTime, roleName, useLang, useT } from '../i18n.jsx';

const OUTCOMES_EN = {
  approved: 'approved', rejected: 'not approved', correct: 'correct', wrong: 'incorrect',
  passed: 'passed', failed: 'failed', unified: 'photographed together', individual: 'not photographed together',
  photo_wrong: 'photo wrong', other_wrong: 'other data wrong', deferred: 'deferred',
};
const ENDINGS_EN = { 'instance.completed': 'closed', 'instance.terminated': 'terminated' };
const SEEN_KEY = 'xueji.notifications.seen';
const POLL_MS = 60000;

export function outcomeName(outcome, lang) {
  if (!outcome) return '';
  if (lang !== 'en') return outcome.outcome_name || '';
  return OUTCOMES_EN[outcome.outcome] || ENDINGS_EN[outcome.type] || outcome.outcome_name || '';
}

// 审批结果 of a case: the outcome in words and its reason.
export function OutcomeText({ outcome }) {
  const { lang } = useLang();
  const t = useT();
  if (!outcome) return <span className="muted">—</span>;
  return (
    <span className={outcome.negative ? 'outcome negative' : 'outcome'} data-testid="outcome">
      <strong>{outcomeName(outcome, lang)}</strong>
      {outcome.step && <span className="muted small"> · {outcome.step}</span>}
      {outcome.reason && <span className="reason">{t('原因：', 'Reason: ')}{outcome.reason}</span>}
    </span>
  );
}

// "已提交：… 下一步：函授站签署审核意见（函授站 · 郑州函授站），期限 2026-12-08 12:00" from a
// complete response's next_steps.
export function submittedText(t, lang, name, result) {
  const steps = result?.next_steps || [];
  const done = t(`已提交：${name}。`, `Submitted: ${name}. `);
  if (result?.instance?.state === 'completed' && !steps.length) return done + t('流程已办结。', 'The case is closed.');
  if (!steps.length) return done;
  const parts = steps.map((s) => {
    const who = [roleName(s.role, lang), s.station_name].filter(Boolean).join(' · ');
    const due = s.due_at ? t(`，期限 ${formatTime(s.due_at, lang)}`, `, due ${formatTime(s.due_at, lang)}`) : '';
    return `${s.name}${who ? t(`（${who}）`, ` (${who})`) : ''}${due}`;
  });
  return done + t(`下一步：${parts.join('；')}`, `Next: ${parts.join('; ')}`);
}

export function Notifications() {
  const t = useT();
  const { lang } = useLang();
  const definitions = useDefinitions();
  const [items, setItems] = useState([]);
  const [open, setOpen] = useState(false);
  const [seen, setSeen] = useState(() => Number(localStorage.getItem(SEEN_KEY) || 0));
  const box = useRef(null);

  useEffect(() => {
    let live = true;
    const load = () => get('/notifications').then((list) => live && setItems(list)).catch(() => {});
    load();
    const timer = setInterval(load, POLL_MS);
    return () => { live = false; clearInterval(timer); };
  }, []);
  useEffect(() => {
    if (!open) return undefined;
    const close = (e) => { if (box.current && !box.current.contains(e.target)) setOpen(false); };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);

  const unread = items.filter((n) => n.id > seen).length;
  function toggle() {
    if (!open && items.length) {
      const newest = Math.max(...items.map((n) => n.id));
      localStorage.setItem(SEEN_KEY, String(newest));
      setSeen(newest);
    }
    setOpen(!open);
  }

  return (
    <div className="notifications" ref={box}>
      <button type="button" className="link bell" onClick={toggle} aria-expanded={open} data-testid="notifications">
        {t('消息', 'Notices')}{unread > 0 && <span className="count unread" data-testid="unread">{unread}</span>}
      </button>
      {open && (
        <div className="notification-list" role="dialog" aria-label={t('审批结果与办结通知', 'Outcomes and closed cases')}>
          {items.length === 0 ? <div className="muted">{t('暂无通知', 'Nothing new')}</div> : items.map((n) => (
            <Link key={n.id} to={`/instances/${n.instance_id}`} className="notification" data-testid="notification" onClick={() => setOpen(false)}>
              <span className="small muted notification-head">
                {[processName(definitions, n.process_key), n.business_key, formatTime(n.at, lang)].filter(Boolean).join(' · ')}
              </span>
              <OutcomeText outcome={n} />
            </Link>
          ))}
        </div>
      )}
    </div>
  );
}
