"""The student record (学籍)."""
