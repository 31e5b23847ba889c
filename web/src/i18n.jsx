// Chinese first; every string is written at its call site as t('中文', 'English').
import { createContext, useContext, useState, useCallback } from 'react';

const LangContext = createContext({ lang: 'zh', setLang: () => {} });

export function LangProvider({ children }) {
  const [lang, setLangState] = useState(() => localStorage.getItem('xueji.lang') || 'zh');
  const setLang = useCallback((value) => {
    localStorage.setItem('xueji.lang', value);
    document.documentElement.lang = value === 'zh' ? 'zh-CN' : 'en';
    setLangState(value);
  }, []);
  return <LangContext.Provider value={{ lang, setLang }}>{children}</LangContext.Provider>;
}

export function useLang() {
  return useContext(LangContext);
}

export function useT() {
  const { lang } = useContext(LangContext);
  return useCallback((zh, en) => (lang === 'en' && en !== undefined ? en : zh), [lang]);
}

export const ROLES = {
  student: ['学生', 'Student'],
  station: ['函授站', 'Station'],
  registrar: ['学院学籍管理', 'Registrar'],
  academic: ['学院教学管理', 'Teaching office'],
  grades: ['成绩管理人员', 'Grades office'],
  leader: ['学籍主管领导', 'Leader'],
  student_affairs: ['学工办', 'Student affairs'],
  advisor: ['指导教师', 'Advisor'],
  province_admissions: ['省级招生部门', 'Provincial admissions'],
  province_edu: ['省教育厅', 'Provincial education dept.'],
  photo_agency: ['新华图片社', 'Photo agency'],
  chsi: ['教育部网络中心', 'CHSI'],
  admin: ['系统管理员', 'Administrator'],
};

export function roleName(role, lang) {
  const names = ROLES[role];
  if (!names) return role || '';
  return lang === 'en' ? names[1] : names[0];
}

export const STATES = {
  running: ['进行中', 'running'],
  completed: ['已完成', 'completed'],
  terminated: ['已终止', 'terminated'],
  suspended: ['已挂起', 'suspended'],
  error: ['出错', 'error'],
  ready: ['待办', 'ready'],
};

export function stateName(state, lang) {
  const names = STATES[state];
  if (!names) return state || '';
  return lang === 'en' ? names[1] : names[0];
}

export const HISTORY_KINDS = {
  instance_started: ['发起流程', 'instance started'],
  instance_completed: ['流程结束', 'instance completed'],
  instance_terminated: ['流程终止', 'instance terminated'],
  instance_suspended: ['流程挂起', 'instance suspended'],
  instance_resumed: ['流程恢复', 'instance resumed'],
  element_completed: ['步骤完成', 'step completed'],
  task_created: ['任务生成', 'task created'],
  task_completed: ['办理完成', 'task completed'],
  task_claimed: ['认领任务', 'task claimed'],
  task_unclaimed: ['放弃认领', 'task released'],
  task_assigned: ['指派任务', 'task assigned'],
  task_overdue: ['任务逾期', 'task overdue'],
  task_escalated: ['逾期上报', 'task escalated'],
  task_cancelled: ['任务取消', 'task cancelled'],
  timer_fired: ['定时器触发', 'timer fired'],
  message_received: ['收到消息', 'message received'],
  incident: ['故障', 'incident'],
  call_started: ['启动子流程', 'call started'],
  call_completed: ['子流程完成', 'call completed'],
  instance_migrated: ['迁移到新版本', 'migrated to another version'],
  instance_moved: ['退回到环节', 'moved to an element'],
  variable_set: ['修改变量', 'variable set'],
  step_retried: ['重试失败步骤', 'failed step retried'],
  step_skipped: ['跳过失败步骤', 'failed step skipped'],
  admin_action: ['管理操作', 'administrative action'],
};

export function historyKindName(kind, lang) {
  const names = HISTORY_KINDS[kind];
  if (!names) return kind;
  return lang === 'en' ? names[1] : names[0];
}

export const OUTCOMES = {
  approved: '通过', rejected: '未通过', correct: '正确', wrong: '有误', passed: '及格',
  failed: '不及格', unified: '统一拍摄', individual: '未统一拍摄', photo_wrong: '照片有误',
  other_wrong: '其他信息有误', deferred: '缓验',
};

export function formatTime(value, lang) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}
