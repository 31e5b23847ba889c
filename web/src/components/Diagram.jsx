// A BPMN diagram (read-only) with markers on elements: done, active, pending, problem.
import { useEffect, useRef, useState } from 'react';
import { useT } from '../i18n.jsx';

export default function Diagram({ xml, markers = {}, overlays = [], height = 480 }) {
  const container = useRef(null);
  const viewer = useRef(null);
  const [error, setError] = useState('');
  const [ready, setReady] = useState(false);
  const t = useT();

  useEffect(() => {
    let cancelled = false;
    import('./bpmnViewer.js').then(({ default: Viewer }) => {
      if (cancelled) return;
      viewer.current = new Viewer({ container: container.current });
      setReady(true);
    });
    return () => {
      cancelled = true;
      viewer.current?.destroy();
      viewer.current = null;
    };
  }, []);

  useEffect(() => {
    if (!ready || !xml) return;
    const v = viewer.current;
    setError('');
    v.importXML(xml).then(() => {
      const canvas = v.get('canvas');
      const registry = v.get('elementRegistry');
      const overlayService = v.get('overlays');
      canvas.zoom('fit-viewport', 'auto');
      Object.entries(markers).forEach(([id, marker]) => {
        if (registry.get(id)) canvas.addMarker(id, marker);
      });
      overlays.forEach((o) => {
        if (!registry.get(o.id)) return;
        const node = document.createElement('div');
        node.className = `diagram-overlay ${o.className || ''}`;
        node.textContent = o.text;
        if (o.title) node.title = o.title;
        overlayService.add(o.id, { position: o.position || { bottom: -4, left: 0 }, html: node });
      });
    }).catch((err) => setError(err.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready, xml, JSON.stringify(markers), JSON.stringify(overlays)]);

  return (
    <div className="diagram-wrap">
      {error && <div className="error">{t('流程图无法显示：', 'The diagram cannot be shown: ')}{error}</div>}
      <div className="diagram" ref={container} style={{ height }} data-testid="diagram" />
      <div className="legend">
        <span className="legend-item done">{t('已完成', 'done')}</span>
        <span className="legend-item active">{t('进行中', 'active')}</span>
        <span className="legend-item pending">{t('未执行', 'pending')}</span>
      </div>
    </div>
  );
}
