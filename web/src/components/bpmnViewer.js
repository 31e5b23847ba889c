// Loaded on demand: bpmn-js's viewer with its styles.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

export default NavigatedViewer;
