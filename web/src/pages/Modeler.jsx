// The modeler: open any deployed version, edit (names, lanes, form links, deadlines), validate
// on the server with problems shown on their elements, deploy as a new version, and see what
// changed from another version (the server's semantic diff) as a list and on the diagram.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { ApiError, errorText, get, getText, request } from '../api.js';
import { useAuth } from '../auth.jsx';
import { ROLES, useLang, useT } from '../i18n.jsx';
import { ErrorBox, forget } from '../components/common.jsx';
import NotFound from './NotFound.jsx';

const SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
const FORM_PROPS = [
  ['formJsonSchemaFilename', '表单 JSON Schema 文件', 'Form JSON Schema file', 'xxx.schema.json'],
  ['formUiSchemaFilename', '表单 UI Schema 文件', 'Form UI schema file', 'xxx.uischema.json'],
  ['dueDate', '办理期限', 'Due date rule', 'P7D'],
];
const FORM_TYPES = ['bpmn:UserTask', 'bpmn:StartEvent', 'bpmn:ManualTask'];
const DIFF_MARKERS = { added: 'diff-added', renamed: 'diff-changed', changed: 'diff-changed', removed: 'diff-removed' };
// Room kept free on the canvas: bpmn-js's palette on the left, a margin elsewhere (screen px).
const PALETTE_ROOM = 110;
const MARGIN = 30;

// Fit the whole diagram into the canvas beside the palette, never enlarged past 100 %.
function fitBesidePalette(canvas) {
  canvas.zoom('fit-viewport');
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height) return;
  const scale = Math.min(1, (outer.width - PALETTE_ROOM - MARGIN) / inner.width, (outer.height - 2 * MARGIN) / inner.height);
  canvas.viewbox({ x: inner.x - PALETTE_ROOM / scale, y: inner.y - MARGIN / scale, width: outer.width / scale, height: outer.height / scale });
}

function elementLabel(registry, id) {
  const element = id && registry?.get(id);
  return element?.businessObject?.name || id;
}

// The dueDate rule in words, as the server reads it (7 天, 3 月 15 日前), or why it cannot.
function DeadlineWords({ rule }) {
  const t = useT();
  const [answer, setAnswer] = useState(null);
  useEffect(() => {
    if (!rule) { setAnswer(null); return undefined; }
    let current = true;
    get('/deadline-rules/words', { rule }).then((a) => { if (current) setAnswer(a); }, () => { if (current) setAnswer(null); });
    return () => { current = false; };
  }, [rule]);
  if (!answer || answer.rule !== rule) return null;
  if (answer.problem) return <span className="due-words due-problem small" data-testid="due-words">{t('无法识别：', 'Not readable: ')}{answer.problem}</span>;
  return <span className="due-words muted small" data-testid="due-words">{t('即', 'i.e.')} {answer.words}</span>;
}

const EMPTY_DIAGRAM = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="${SPIFF_NS}" id="new_process_definitions" targetNamespace="https://xueji.example/bpmn">
  <bpmn:process id="new_process" name="新流程" isExecutable="true">
    <bpmn:startEvent id="start" name="开始" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="new_process_diagram">
    <bpmndi:BPMNPlane id="new_process_plane" bpmnElement="new_process">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

function spiffProperties(bo) {
  return bo?.extensionElements?.values?.find((v) => v.$type === 'spiffworkflow:properties');
}

export function getSpiffProperty(bo, name) {
  return spiffProperties(bo)?.$children?.find((c) => c.$type === 'spiffworkflow:property' && c.name === name)?.value || '';
}

// Edit <spiffworkflow:property name=… value=…> inside bpmn:extensionElements, as the
// SpiffWorkflow modeler writes it; other extension content is kept as it is.
export function setSpiffProperty(modeler, element, name, value) {
  const moddle = modeler.get('moddle');
  const modeling = modeler.get('modeling');
  const bo = element.businessObject;
  let ext = bo.extensionElements;
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
  }
  ext.values = ext.values || [];
  let props = ext.values.find((v) => v.$type === 'spiffworkflow:properties');
  if (!props) {
    props = moddle.createAny('spiffworkflow:properties', SPIFF_NS, {});
    props.$children = [];
    props.$parent = ext;
    ext.values.push(props);
  }
  props.$children = props.$children || [];
  const existing = props.$children.find((c) => c.$type === 'spiffworkflow:property' && c.name === name);
  if (!value) {
    props.$children = props.$children.filter((c) => c !== existing);
  } else if (existing) {
    existing.value = value;
  } else {
    const prop = moddle.createAny('spiffworkflow:property', SPIFF_NS, { name, value });
    prop.$parent = props;
    props.$children.push(prop);
  }
  if (!props.$children.length) ext.values = ext.values.filter((v) => v !== props);
  modeling.updateProperties(element, { extensionElements: ext.values.length ? ext : undefined });
}

function ElementPanel({ modeler, element, revision }) {
  const t = useT();
  const { lang } = useLang();
  const [values, setValues] = useState({});
  useEffect(() => {
    if (!element) return;
    const next = {};
    FORM_PROPS.forEach(([name]) => { next[name] = getSpiffProperty(element.businessObject, name); });
    setValues(next);
  }, [element, revision]);
  if (!element) return <p className="muted small">{t('选择一个元素以编辑其表单链接或泳道角色。', 'Select an element to edit its form link or lane role.')}</p>;
  const bo = element.businessObject;
  if (element.type === 'bpmn:Lane') {
    const known = Object.entries(ROLES).find(([id, names]) => bo.name === id || names[0] === bo.name);
    return (
      <div className="element-panel">
        <h4>{t('泳道角色', 'Lane role')}</h4>
        <p className="muted small">{t('泳道名称须为角色的中文名或编号。', 'A lane is named after a role (Chinese name or id).')}</p>
        <select value={known ? known[1][0] : ''} data-testid="lane-role" onChange={(e) => modeler.get('modeling').updateProperties(element, { name: e.target.value })}>
          <option value="">{t('（未对应任何角色）', '(no role)')}</option>
          {Object.entries(ROLES).map(([id, names]) => <option key={id} value={names[0]}>{names[0]}（{id}）{lang === 'en' ? ` ${names[1]}` : ''}</option>)}
        </select>
      </div>
    );
  }
  if (!FORM_TYPES.includes(element.type)) {
    return <p className="muted small">{bo.name || bo.id}（{element.type.replace('bpmn:', '')}）</p>;
  }
  return (
    <div className="element-panel" data-testid="form-link-panel">
      <h4>{t('表单链接', 'Form link')}</h4>
      {FORM_PROPS.map(([name, zh, en, placeholder]) => (
        <label key={name} className="plain-field">
          {t(zh, en)}
          <input
            value={values[name] || ''}
            placeholder={placeholder}
            data-testid={`prop-${name}`}
            onChange={(e) => setValues({ ...values, [name]: e.target.value })}
            onBlur={(e) => {
              if (e.target.value.trim() !== getSpiffProperty(bo, name)) setSpiffProperty(modeler, element, name, e.target.value.trim());
            }}
          />
          {name === 'dueDate' && <DeadlineWords rule={getSpiffProperty(bo, name)} />}
        </label>
      ))}
    </div>
  );
}

const CHANGE_WORDS = { added: ['新增', 'added'], removed: ['删除', 'removed'], renamed: ['重命名', 'renamed'], changed: ['修改', 'changed'] };

// The server writes each change in Chinese; the English toggle words it from its parts.
function englishChange(c) {
  const kind = c.kind === 'flow' ? 'sequence flow' : c.kind;
  if (c.change === 'added') return `Added ${kind} “${c.name}”`;
  if (c.change === 'removed') return `Removed ${kind} “${c.name}”`;
  if (c.change === 'renamed') return `Renamed ${kind} “${c.old_name}” → “${c.name}”`;
  return `${kind} “${c.name}”: ${c.field.replace('_', ' ')} ${c.before ?? '(none)'} → ${c.after ?? '(none)'}`;
}

// What a later version no longer has, marked on the earlier version (read-only).
function RemovedView({ xml, ids }) {
  const container = useRef(null);
  useEffect(() => {
    let viewer = null;
    let cancelled = false;
    import('../components/bpmnViewer.js').then(async ({ default: Viewer }) => {
      if (cancelled) return;
      viewer = new Viewer({ container: container.current });
      await viewer.importXML(xml);
      const canvas = viewer.get('canvas');
      const registry = viewer.get('elementRegistry');
      canvas.zoom('fit-viewport', 'auto');
      ids.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, 'diff-removed'); });
    });
    return () => { cancelled = true; viewer?.destroy(); };
  }, [xml, ids]);
  return <div className="removed-view" ref={container} data-testid="removed-view" />;
}

function DiffList({ changes, onSelect }) {
  const t = useT();
  const { lang } = useLang();
  if (!changes.length) return <p className="muted" data-testid="diff-empty">{t('两个版本的流程内容相同（布局不计）。', 'The two versions do the same (layout aside).')}</p>;
  return (
    <ul className="diff-list" data-testid="diff">
      {changes.map((c, i) => (
        <li key={i} className={`diff-${c.change}`} data-testid="diff-item" data-element-id={c.element_id}>
          <span className={`badge change-${c.change}`}>{t(...CHANGE_WORDS[c.change])}</span>{' '}
          {c.change === 'removed' ? <span>{lang === 'en' ? englishChange(c) : c.text}</span> : <button type="button" className="link" onClick={() => onSelect(c.element_id)}>{lang === 'en' ? englishChange(c) : c.text}</button>}
        </li>
      ))}
    </ul>
  );
}

export default function ModelerPage() {
  const { key } = useParams();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const t = useT();
  const { lang } = useLang();
  const { hasRole } = useAuth();
  const version = params.get('version');
  const canvasRef = useRef(null);
  const panelRef = useRef(null);
  const fileRef = useRef(null);
  const modelerRef = useRef(null);
  const [modeler, setModeler] = useState(null);
  const [selected, setSelected] = useState(null);
  const [revision, setRevision] = useState(0);
  const [dirty, setDirty] = useState(false);
  const [definition, setDefinition] = useState(null);
  const [problems, setProblems] = useState(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState('');
  const [compareTo, setCompareTo] = useState('');
  const [diff, setDiff] = useState(null);
  const [loaded, setLoaded] = useState('');

  useEffect(() => {
    if (!hasRole('admin')) return undefined;
    let cancelled = false;
    import('../components/bpmnModeler.js').then(({ createModeler }) => {
      if (cancelled) return;
      const m = createModeler(canvasRef.current, panelRef.current, lang === 'zh');
      m.on('selection.changed', ({ newSelection }) => setSelected(newSelection.length === 1 ? newSelection[0] : null));
      m.on('commandStack.changed', () => { setDirty(true); setRevision((r) => r + 1); });
      modelerRef.current = m;
      window.__xuejiModeler = m;
      setModeler(m);
    });
    return () => {
      cancelled = true;
      modelerRef.current?.destroy();
      modelerRef.current = null;
      setModeler(null);
    };
  }, [hasRole, lang]);

  const loadDefinition = useCallback(async () => {
    if (!key) return null;
    const d = await get(`/process-definitions/${key}`);
    setDefinition(d);
    return d;
  }, [key]);

  const openXml = useCallback(async (xml, label) => {
    const m = modelerRef.current;
    setProblems(null);
    setDiff(null);
    const { warnings } = await m.importXML(xml);
    fitBesidePalette(m.get('canvas'));
    setDirty(false);
    setSelected(null);
    setLoaded(label);
    if (warnings.length) setMessage(t(`已打开（${warnings.length} 条导入警告）`, `Opened (${warnings.length} import warnings)`));
  }, [t]);

  useEffect(() => {
    if (!modeler) return;
    setError('');
    (async () => {
      try {
        if (key) {
          const d = await loadDefinition();
          const v = version || d.version;
          const xml = await getText(`/process-definitions/${key}/xml`, { version: v });
          await openXml(xml, `${d.name} v${v}`);
          const earlier = d.versions.filter((n) => n < Number(v));
          setCompareTo(String(earlier.length ? earlier[earlier.length - 1] : v));
        } else {
          await openXml(EMPTY_DIAGRAM, t('新流程', 'New process'));
        }
      } catch (err) {
        setError(errorText(err, t));
      }
    })();
  }, [modeler, key, version, loadDefinition, openXml, t]);

  if (!hasRole('admin')) return <NotFound />;

  function processId() {
    const definitions = modelerRef.current.getDefinitions();
    const processes = (definitions?.rootElements || []).filter((e) => e.$type === 'bpmn:Process');
    return (processes.find((p) => p.isExecutable) || processes[0])?.id || key || 'process';
  }

  async function exportFile() {
    const { xml } = await modelerRef.current.saveXML({ format: true });
    const name = `${processId()}.bpmn`;
    return { xml, file: new File([xml], name, { type: 'application/xml' }), name };
  }

  function showProblems(list) {
    const m = modelerRef.current;
    const overlays = m.get('overlays');
    const canvas = m.get('canvas');
    const registry = m.get('elementRegistry');
    overlays.remove({ type: 'problem' });
    registry.forEach((el) => canvas.removeMarker(el, 'has-problem'));
    (list || []).forEach((p) => {
      if (!p.element_id || !registry.get(p.element_id)) return;
      canvas.addMarker(p.element_id, 'has-problem');
      const node = document.createElement('div');
      node.className = 'problem-overlay';
      node.textContent = '!';
      node.title = p.message;
      overlays.add(p.element_id, 'problem', { position: { top: -10, right: 10 }, html: node });
    });
    setProblems(list);
  }

  async function validate() {
    setBusy('validate');
    setError('');
    setMessage('');
    try {
      const { file } = await exportFile();
      const form = new FormData();
      form.append('files', file);
      const result = await request('POST', '/deployments/validate', { form });
      showProblems(result.problems || []);
      if (result.valid) setMessage(t('校验通过，可以部署。', 'Valid: ready to deploy.'));
      else setError(t(`发现 ${result.problems.length} 个问题，见下方列表；点击元素名称可在图中选中它。`, `${result.problems.length} problems, listed below; click a name to select its element.`));
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy('');
    }
  }

  async function deploy() {
    setBusy('deploy');
    setError('');
    setMessage('');
    try {
      const { file } = await exportFile();
      const form = new FormData();
      form.append('files', file);
      const result = await request('POST', '/deployments', { form });
      showProblems([]);
      forget('definitions');
      forget('definition:');
      const mine = result.definitions.find((d) => d.key === processId()) || result.definitions[0];
      const previous = definition?.version;
      setDirty(false);
      if (mine && previous && mine.version === previous) {
        setMessage(t('内容未变化，未生成新版本。', 'Unchanged: no new version.'));
      } else if (mine) {
        setMessage(t(`已部署：${mine.name} 版本 ${mine.version}`, `Deployed ${mine.name} version ${mine.version}`));
        if (mine.key !== key) navigate(`/admin/modeler/${mine.key}?version=${mine.version}`);
        else setParams({ version: String(mine.version) });
      }
      await loadDefinition();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body?.detail)) {
        showProblems(err.body.detail);
        setError(t('部署失败：图中存在问题，见下方列表。', 'Not deployed: see the problems below.'));
      } else {
        setError(errorText(err, t));
      }
    } finally {
      setBusy('');
    }
  }

  function markChanges(changes) {
    const m = modelerRef.current;
    const canvas = m.get('canvas');
    const registry = m.get('elementRegistry');
    registry.forEach((el) => Object.values(DIFF_MARKERS).forEach((marker) => canvas.removeMarker(el, marker)));
    (changes || []).forEach((c) => {
      if (c.change !== 'removed' && registry.get(c.element_id)) canvas.addMarker(c.element_id, DIFF_MARKERS[c.change]);
    });
  }

  async function showDiff() {
    const shown = version || definition?.version;
    if (!key || !compareTo || !shown) return;
    setBusy('diff');
    setError('');
    try {
      const result = await get(`/definitions/${key}/diff`, { from: compareTo, to: shown });
      markChanges(result.changes);
      const removed = result.changes.filter((c) => c.change === 'removed').map((c) => c.element_id);
      const before = removed.length ? await getText(`/process-definitions/${key}/xml`, { version: compareTo }) : null;
      setDiff({ ...result, removed, before });
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy('');
    }
  }

  async function openFile(event) {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file) return;
    try {
      await openXml(await file.text(), file.name);
      setDirty(true);
      setMessage(t(`已打开本地文件 ${file.name}，校验后可部署。`, `Opened ${file.name}; validate, then deploy.`));
    } catch (err) {
      setError(t('无法读取该 BPMN 文件：', 'Cannot read that BPMN file: ') + err.message);
    }
  }

  async function download() {
    const { xml, name } = await exportFile();
    const url = URL.createObjectURL(new Blob([xml], { type: 'application/xml' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  function focusElement(id) {
    const m = modelerRef.current;
    const element = id && m.get('elementRegistry').get(id);
    if (element) {
      m.get('selection').select(element);
      m.get('canvas').scrollToElement?.(element);
    }
  }

  const versions = definition?.versions || [];
  return (
    <div className="page modeler-page">
      <div className="page-head">
        <div>
          <div className="crumbs"><Link to="/admin">{t('系统管理', 'Administration')}</Link> / {t('流程建模', 'Modeler')}</div>
          <h1>{t('流程建模器', 'Process modeler')} <span className="muted small" data-testid="loaded">{loaded}</span> {dirty && <span className="badge dirty">{t('有未部署的修改', 'unsaved changes')}</span>}</h1>
        </div>
      </div>
      <div className="toolbar">
        {key && (
          <label>{t('版本', 'Version')}
            <select value={version || definition?.version || ''} data-testid="version-select" onChange={(e) => setParams({ version: e.target.value })}>
              {[...versions].sort((a, b) => b - a).map((v) => <option key={v} value={v}>v{v}</option>)}
            </select>
          </label>
        )}
        <button type="button" onClick={validate} disabled={!!busy} data-testid="btn-validate">{busy === 'validate' ? t('校验中…', 'Validating…') : t('校验', 'Validate')}</button>
        <button type="button" onClick={deploy} disabled={!!busy} data-testid="btn-deploy">{busy === 'deploy' ? t('部署中…', 'Deploying…') : t('部署为新版本', 'Deploy as new version')}</button>
        {key && (
          <span className="group">
            <label>{t('对比版本', 'Compare with')}
              <select value={compareTo} onChange={(e) => setCompareTo(e.target.value)}>
                {[...versions].sort((a, b) => b - a).map((v) => <option key={v} value={v}>v{v}</option>)}
              </select>
            </label>
            <button type="button" className="secondary" onClick={showDiff} disabled={!!busy} data-testid="btn-diff">{t('比较差异', 'Diff')}</button>
          </span>
        )}
        <button type="button" className="secondary" onClick={() => fileRef.current.click()}>{t('打开本地 .bpmn', 'Open .bpmn file')}</button>
        <input ref={fileRef} type="file" accept=".bpmn,.xml" hidden onChange={openFile} data-testid="open-file" />
        <button type="button" className="secondary" onClick={download}>{t('下载 XML', 'Download XML')}</button>
      </div>
      {message && <div className="notice" role="status" data-testid="modeler-message">{message}</div>}
      <ErrorBox>{error}</ErrorBox>
      <div className="modeler-layout">
        <div className="modeler-canvas" ref={canvasRef} data-testid="modeler-canvas" />
        <aside className="modeler-side">
          <div className="properties" ref={panelRef} />
          {modeler && <ElementPanel modeler={modeler} element={selected} revision={revision} />}
        </aside>
      </div>
      {problems && (
        <div className="card">
          <h3>{t('校验结果', 'Problems')}</h3>
          {problems.length === 0 ? <p className="ok">{t('没有问题', 'No problems')}</p> : (
            <ul className="problems" data-testid="problems">
              {problems.map((p, i) => (
                <li key={i}>
                  <button type="button" className="link" data-testid="problem-element" onClick={() => focusElement(p.element_id)}>{p.element_id ? elementLabel(modeler?.get('elementRegistry'), p.element_id) : p.file}</button>
                  {p.line ? <span className="muted small">（{t('第', 'line ')}{p.line}{t(' 行', '')}）</span> : null}：{lang === 'en' && p.code ? <code className="small">{p.code}</code> : null} {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {diff && (
        <div className="card">
          <h3>{t(`v${diff.from_version} → v${diff.to_version} 的变化`, `Changes from v${diff.from_version} to v${diff.to_version}`)}</h3>
          {dirty && <p className="muted small">{t('比较的是已部署的两个版本，未部署的修改不在其中。', 'Deployed versions only: unsaved changes are not included.')}</p>}
          <p className="legend small"><span className="legend-item diff-added">{t('新增', 'added')}</span> <span className="legend-item diff-changed">{t('修改或重命名', 'changed or renamed')}</span> <span className="legend-item diff-removed">{t('删除（标在旧版本图上）', 'removed (marked on the earlier version)')}</span></p>
          <DiffList changes={diff.changes} onSelect={focusElement} />
          {diff.before && (
            <>
              <h4>{t(`v${diff.from_version} 中已删除的元素`, `Removed, as they were in v${diff.from_version}`)}</h4>
              <RemovedView xml={diff.before} ids={diff.removed} />
            </>
          )}
        </div>
      )}
    </div>
  );
}
