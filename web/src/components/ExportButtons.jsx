// Download a list as the service exports it (GET /api/v1/exports/…: XLSX, or CSV with a BOM),
// with the filters the page shows.
import { useState } from 'react';
import { downloadFile, errorText } from '../api.js';
import { useT } from '../i18n.jsx';

export default function ExportButtons({ path, params = {}, name }) {
  const t = useT();
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  async function download(format) {
    const query = new URLSearchParams();
    Object.entries({ ...params, format }).forEach(([key, value]) => {
      if (value !== undefined && value !== null && value !== '') query.set(key, value);
    });
    setBusy(format);
    setError('');
    try {
      await downloadFile(`/exports/${path}?${query}`, `${name}.${format}`);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy('');
    }
  }
  return (
    <div className="head-actions" data-testid="export-buttons">
      <button type="button" className="secondary" disabled={Boolean(busy)} onClick={() => download('xlsx')}>{t('导出 XLSX', 'Export XLSX')}</button>
      <button type="button" className="secondary" disabled={Boolean(busy)} onClick={() => download('csv')}>{t('导出 CSV', 'Export CSV')}</button>
      {error && <span className="error inline">{error}</span>}
    </div>
  );
}
