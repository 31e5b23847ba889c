"""Messages from outside (the province, the photo agency, the registration site) and between instances."""
