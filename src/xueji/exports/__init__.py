"""Lists, statistics and the national registration files as downloads (XLSX, CSV, DBF)."""
