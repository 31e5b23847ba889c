"""Messages from outside (province, photo agency, registration site) and between instances."""
