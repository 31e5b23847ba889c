import { Link } from 'react-router-dom';
import { useT } from '../i18n.jsx';

export default function NotFound({ message }) {
  const t = useT();
  return (
    <div className="page notfound" data-testid="not-found">
      <h1>{t('未找到', 'Not found')}</h1>
      <p>{message || t('您要找的页面不存在，或您无权查看。', 'This page does not exist, or it is not yours to see.')}</p>
      <Link to="/inbox">{t('返回待办任务', 'Back to the inbox')}</Link>
    </div>
  );
}
