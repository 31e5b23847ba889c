import { Link, useParams } from 'react-router-dom';
import { ApiError, get } from '../api.js';
import { useT } from '../i18n.jsx';
import { ErrorBox, Loading, StateBadge, Time, useLoad, Value } from '../components/common.jsx';
import { UploadLink } from '../components/SchemaForm.jsx';
import NotFound from './NotFound.jsx';

const FIELDS = [
  ['name', '姓名', 'Name'], ['student_number', '学号', 'Student no.'], ['gender', '性别', 'Gender'],
  ['id_number', '身份证号', 'ID number'], ['birth_date', '出生日期', 'Born'], ['ethnicity', '民族', 'Ethnicity'],
  ['political_status', '政治面貌', 'Political status'], ['exam_number', '考生号', 'Exam no.'],
  ['level', '层次', 'Level'], ['major', '专业', 'Major'], ['major_code', '专业代码', 'Major code'],
  ['years', '学制', 'Years'], ['study_mode', '学习形式', 'Mode'], ['intake_year', '年级', 'Intake'],
  ['enrolled_on', '入学日期', 'Enrolled'], ['station_name', '函授站', 'Station'], ['class_name', '班级', 'Class'],
  ['status', '学籍状态', 'Status'], ['photo_status', '图像采集', 'Photo'],
  ['expected_graduation', '预计毕业日期', 'Expected graduation'], ['graduated_on', '毕业日期', 'Graduated'],
  ['certificate_number', '证书编号', 'Certificate no.'], ['conclusion', '毕结业结论', 'Conclusion'],
  ['deferred_season', '缓验季别', 'Deferred (season)'], ['deferral_reason', '缓验原因', 'Deferral reason'],
  ['phone', '联系电话', 'Phone'], ['address', '通讯地址', 'Address'], ['work_unit', '工作单位', 'Work unit'],
  ['remarks', '备注', 'Remarks'],
];

export default function StudentPage() {
  const { id } = useParams();
  const t = useT();
  const student = useLoad(() => get(`/students/${id}`), [id]);
  if (student.loading && !student.data) return <Loading />;
  if (student.error) {
    if (student.error instanceof ApiError && (student.error.status === 404 || student.error.status === 422)) {
      return <NotFound message={t('未找到该学生，或您无权查看其学籍。', 'No such student, or not yours to see.')} />;
    }
    return <div className="page"><ErrorBox error={student.error} /></div>;
  }
  const s = student.data;
  return (
    <div className="page student-page">
      <div className="page-head">
        <div>
          <div className="crumbs"><Link to="/students">{t('学生学籍', 'Students')}</Link></div>
          <h1 data-testid="student-name">{s.name} <span className="badge">{s.status}</span></h1>
          <div className="meta"><span>{s.level} · {s.major} · {s.intake_year}{t('级', '')}</span><span>{s.station_name || s.station}</span></div>
        </div>
      </div>
      <div className="two-columns">
        <section className="main-column">
          <div className="card">
            <h3>{t('学籍信息', 'Record')}</h3>
            <dl className="record">
              {FIELDS.map(([key, zh, en]) => (
                <div key={key}><dt>{t(zh, en)}</dt><dd><Value value={s[key]} /></dd></div>
              ))}
            </dl>
            {s.photo_upload_id && <p>{t('照片：', 'Photo: ')}<UploadLink id={s.photo_upload_id} /></p>}
          </div>
          <div className="card">
            <h3>{t('成绩', 'Grades')}</h3>
            {s.grades?.length ? (
              <table className="grid">
                <thead><tr><th>{t('学期', 'Term')}</th><th>{t('课程', 'Course')}</th><th>{t('学分', 'Credits')}</th><th>{t('类别', 'Kind')}</th><th>{t('成绩', 'Score')}</th><th>{t('结果', 'Result')}</th><th>{t('正式', 'Official')}</th></tr></thead>
                <tbody>{s.grades.map((g) => (
                  <tr key={g.id}><td>{g.term}</td><td>{g.course_name} <span className="muted small">{g.course_code}</span></td><td>{g.credits}</td><td>{g.kind}{g.attempt > 1 ? t(`（第${g.attempt}次）`, ` (#${g.attempt})`) : ''}</td><td>{g.score ?? '—'}</td><td>{g.passed ? t('及格', 'passed') : t('不及格', 'failed')}</td><td>{g.official ? t('是', 'yes') : t('否', 'no')}</td></tr>
                ))}</tbody>
              </table>
            ) : <p className="muted">{t('暂无成绩', 'No grades yet')}</p>}
          </div>
          {s.theses?.length > 0 && (
            <div className="card">
              <h3>{t('毕业设计（论文）', 'Thesis')}</h3>
              <table className="grid"><thead><tr><th>{t('题目', 'Title')}</th><th>{t('指导教师', 'Advisor')}</th><th>{t('答辩资格', 'Eligible')}</th><th>{t('成绩', 'Grade')}</th><th>{t('优秀', 'Excellent')}</th></tr></thead>
                <tbody>{s.theses.map((x) => <tr key={x.id}><td>{x.title || '—'}</td><td>{x.advisor || '—'}</td><td><Value value={x.eligible} /></td><td>{x.grade || '—'}</td><td><Value value={x.excellent} /></td></tr>)}</tbody>
              </table>
            </div>
          )}
        </section>
        <aside className="side-column">
          <div className="card">
            <h3>{t('学籍变动记录', 'Status history')}</h3>
            {s.status_history?.length ? (
              <ol className="timeline compact">
                {s.status_history.map((h) => (
                  <li key={h.id}>
                    <div><strong>{h.kind || t('状态变更', 'Status change')}</strong>：{h.from_status || '—'} → {h.to_status}</div>
                    <div className="muted small">{h.changed_by} · <Time value={h.changed_at} />{h.effective_on ? ` · ${t('生效', 'effective')} ${h.effective_on}` : ''}</div>
                    {h.reason && <div className="small">{h.reason}</div>}
                    {h.instance_id && <Link className="small" to={`/instances/${h.instance_id}`}>{t('查看流程', 'Process')}</Link>}
                  </li>
                ))}
              </ol>
            ) : <p className="muted">{t('无', 'None')}</p>}
          </div>
          <div className="card">
            <h3>{t('相关流程', 'Processes')}</h3>
            {s.instances?.length ? (
              <ul className="plain">
                {s.instances.map((i) => <li key={i.id}><Link to={`/instances/${i.id}`}>{i.name}</Link> <StateBadge state={i.state} /> <span className="muted small"><Time value={i.started_at} /></span></li>)}
              </ul>
            ) : <p className="muted">{t('无', 'None')}</p>}
          </div>
        </aside>
      </div>
    </div>
  );
}
