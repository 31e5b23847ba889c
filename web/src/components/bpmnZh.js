// Chinese for bpmn-js (palette, context pad, properties panel); unknown strings stay English.
const ZH = {
  // palette and context pad
  'Activate the hand tool': '抓手工具', 'Activate the lasso tool': '套索工具',
  'Activate the create/remove space tool': '插入/删除空白', 'Activate the global connect tool': '连线工具',
  'Create start event': '创建开始事件', 'Create end event': '创建结束事件', 'Create task': '创建任务',
  'Create gateway': '创建网关', 'Create intermediate/boundary event': '创建中间/边界事件',
  'Create data object reference': '创建数据对象', 'Create data store reference': '创建数据存储',
  'Create expanded sub-process': '创建子流程', 'Create pool/participant': '创建泳池',
  'Create group': '创建分组', 'Append end event': '追加结束事件', 'Append gateway': '追加网关',
  'Append task': '追加任务', 'Append intermediate/boundary event': '追加中间事件',
  'Append user task': '追加用户任务', 'Append text annotation': '追加注释', 'Change element': '更改类型',
  'Change type': '更改类型', 'Delete': '删除', 'Connect using sequence/message flow or association': '连线',
  'Connect to other element': '连线', 'Connect using association': '关联', 'Connect using data input association': '数据关联',
  'Add lane above': '在上方添加泳道', 'Add lane below': '在下方添加泳道', 'Divide into two lanes': '分为两条泳道',
  'Divide into three lanes': '分为三条泳道', 'Set color': '设置颜色', 'Search in diagram': '在图中搜索',
  'Toggle non-interrupting': '切换非中断', 'Append compensation activity': '追加补偿活动',
  // properties panel
  General: '常规', Name: '名称', ID: '编号', Documentation: '说明', 'Element documentation': '元素说明',
  'Process documentation': '流程说明', Process: '流程', 'Process ID': '流程编号', 'Process name': '流程名称',
  Executable: '可执行', 'Version tag': '版本标签', 'Extension properties': '扩展属性', Value: '值', Type: '类型',
  Condition: '条件', 'Condition type': '条件类型', Expression: '表达式', Script: '脚本', Format: '格式',
  'Multi-instance': '多实例', Timer: '定时器', Message: '消息', Signal: '信号', Error: '错误',
  Escalation: '上报', Input: '输入', Output: '输出', Inputs: '输入', Outputs: '输出', Implementation: '实现',
  'Called element': '被调用元素', Date: '日期', Duration: '时长', Cycle: '周期', '<none>': '<无>', '<empty>': '<空>',
  'Create new ...': '新建…', Participant: '参与者', 'Participant Name': '参与者名称', Lane: '泳道',
  'Element must have an unique id.': '编号必须唯一。', 'ID must not be empty.': '编号不能为空。',
  'ID must not contain spaces.': '编号不能包含空格。', 'ID must be a valid QName.': '编号格式不正确。',
  'ID must not contain prefix.': '编号不能包含前缀。', 'Learn more.': '了解更多。', 'Data object reference': '数据对象',
  'Loop characteristics': '循环特性', 'Completion condition': '完成条件', 'Input collection': '输入集合',
  'Output collection': '输出集合', 'Input element': '输入元素', 'Output element': '输出元素',
  'Message name': '消息名称', 'Signal name': '信号名称', 'Global message reference': '全局消息',
  'Link name': '链接名称', Category: '分类', 'Category value': '分类值', 'Compensation': '补偿',
  'Wait for completion': '等待完成', 'Activity reference': '活动引用', Details: '详细',
  'User task': '用户任务', 'Service task': '服务任务', 'Script task': '脚本任务', 'Manual task': '人工任务',
  'Business rule task': '业务规则任务', 'Send task': '发送任务', 'Receive task': '接收任务', Task: '任务',
  'Call activity': '调用活动', 'Sub process': '子流程', 'Start event': '开始事件', 'End event': '结束事件',
  'Intermediate throw event': '中间抛出事件', 'Intermediate catch event': '中间捕获事件', 'Boundary event': '边界事件',
  'Exclusive gateway': '排他网关', 'Parallel gateway': '并行网关', 'Inclusive gateway': '包容网关',
  'Event-based gateway': '事件网关', 'Sequence flow': '顺序流', 'Message flow': '消息流',
  Collaboration: '协作', 'Text annotation': '注释', Group: '分组',
  'Properties panel': '属性面板', 'No element selected': '未选择元素', 'Multiple elements are selected': '已选择多个元素',
};

// The properties panel's header names the type in title case ("User Task").
Object.keys(ZH).forEach((key) => {
  const title = key.replace(/\b[a-z]/g, (c) => c.toUpperCase());
  if (!(title in ZH) && /^[A-Za-z -]+$/.test(key)) ZH[title] = ZH[key];
});
ZH['Sub Process'] = '子流程';
ZH['Event Based Gateway'] = '事件网关';

export default function customTranslate(template, replacements = {}) {
  const text = ZH[template] || template;
  return text.replace(/{([^}]+)}/g, (_, key) => (replacements[key] !== undefined ? replacements[key] : `{${key}}`));
}

export const translateModule = { translate: ['value', customTranslate] };
