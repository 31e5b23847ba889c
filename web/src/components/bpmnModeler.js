// Loaded on demand: bpmn-js's modeler with the properties panel and Chinese labels.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import { translateModule } from './bpmnZh.js';

export function createModeler(container, panel, chinese) {
  if (!panel) return new Modeler({ container });
  return new Modeler({
    container,
    propertiesPanel: { parent: panel, layout: { groups: { general: { open: true } } } },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ...(chinese ? [translateModule] : [])],
  });
}
