"""xueji (学籍): BPMN workflows for the student-records offices of continuing-education colleges."""
