package templates

// APIPrefix is where a generated app's JSON API lives, below app.root_path: its errors
// there are RFC 9457 application/problem+json, elsewhere HTML pages. The app's
// web/httpjson (templates/project) and deploy-config's nginx site (its 50x answers while
// the app is down) both render it.
const APIPrefix = "/api/"
