package settings

// The platform variables Gunicorn reads as the defaults of bind and workers (Heroku and
// other platforms set them): the settings table names them on the settings they default.
const (
	EnvPort           = "PORT"
	EnvWebConcurrency = "WEB_CONCURRENCY"
)
