"""Documents the offices print (学籍卡, 审批表, rosters, lists, transcripts) as PDF and XLSX."""
