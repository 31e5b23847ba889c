// The modeler: open any deployed version, edit (names, lanes, form links), validate on the
// server with problems shown on their elements, deploy as a new version, diff against a version.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { ApiError, errorText, get, getText, request } from '../api.js';
import { useAuth } from '../auth.jsx';
import { ROLES, useLang, useT } from '../i18n.jsx';
import { ErrorBox, forget } from '../components/common.jsx';
import { hunks, lineDiff } from '../components/lineDiff.js';
import NotFound from './NotFound.jsx';

const SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
const FORM_PROPS = [
  ['formJsonSchemaFilename', '表单 JSON Schema 文件', 'Form JSON Schema file', 'xxx.schema.json'],
  ['formUiSchemaFilename', '表单 UI Schema 文件', 'Form UI schema file', 'xxx.uischema.json'],
  ['dueDate', '办理期限', 'Due date rule', 'P7D'],
];
const FORM_TYPES = ['bpmn:UserTask', 'bpmn:StartEvent', 'bpmn:ManualTask'];

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
        </label>
      ))}
    </div>
  );
}

function DiffView({ lines }) {
  const t = useT();
  const groups = hunks(lines);
  const added = lines.filter((l) => l.kind === '+').length;
  const removed = lines.filter((l) => l.kind === '-').length;
  if (!groups.length) return <p className="muted" data-testid="diff-empty">{t('与所选版本相同，没有差异。', 'Same as that version.')}</p>;
  return (
    <div className="diff" data-testid="diff">
      <p className="small"><span className="diff-add">+{added}</span> <span className="diff-del">−{removed}</span></p>
      {groups.map((group, gi) => (
        <pre key={gi} className="hunk">
          {group.map((line, li) => (
            <div key={li} className={line.kind === '+' ? 'diff-add' : line.kind === '-' ? 'diff-del' : ''}>
              <span className="ln">{line.oldNo ?? ''}</span><span className="ln">{line.newNo ?? ''}</span>{line.kind} {line.text}
            </div>
          ))}
        </pre>
      ))}
    </div>
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
    m.get('canvas').zoom('fit-viewport', 'auto');
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
          setCompareTo(String(v));
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
      setMessage(result.valid ? t('校验通过，可以部署。', 'Valid: ready to deploy.') : t(`发现 ${result.problems.length} 个问题`, `${result.problems.length} problems`));
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

  async function showDiff() {
    if (!key || !compareTo) return;
    setBusy('diff');
    setError('');
    try {
      const previous = await getText(`/process-definitions/${key}/xml`, { version: compareTo });
      // Both sides written by bpmn-js the same way (formatting, DI order): only real changes differ.
      const { createModeler } = await import('../components/bpmnModeler.js');
      const scratch = createModeler(undefined, undefined, false);
      let normalised;
      try {
        await scratch.importXML(previous);
        ({ xml: normalised } = await scratch.saveXML({ format: true }));
      } finally {
        scratch.destroy();
      }
      const { xml } = await modelerRef.current.saveXML({ format: true });
      setDiff(lineDiff(normalised, xml));
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

  function focusProblem(p) {
    const m = modelerRef.current;
    const element = p.element_id && m.get('elementRegistry').get(p.element_id);
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
                  <button type="button" className="link" onClick={() => focusProblem(p)}>{p.element_id || p.file}</button>
                  {p.line ? <span className="muted small">（{t('第', 'line ')}{p.line}{t(' 行', '')}）</span> : null}：{p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {diff && <div className="card"><h3>{t(`与 v${compareTo} 的差异`, `Diff against v${compareTo}`)}</h3><DiffView lines={diff} /></div>}
    </div>
  );
}
