package templates

// StaticFiles is how a generated app names and caches its static files. The app's
// web/layout (templates/project) and deploy-config's nginx site (templates/deploy) both
// render it, so the app in development and nginx in production send the same headers for
// the same URLs.
type StaticFiles struct {
	// HashLen is a fingerprint's length in hex digits: css/style.<HashLen hex>.css.
	HashLen int
	// Immutable is the Cache-Control of a fingerprinted URL, which names one content for
	// ever: browsers keep it a year without asking again.
	Immutable string
	// Brief is the Cache-Control of any other static URL: a deploy is seen within a minute
	// (WhiteNoise's default for files without a fingerprint).
	Brief string
}

// Static is the one StaticFiles of every generated project.
var Static = StaticFiles{HashLen: 12, Immutable: "public, max-age=31536000, immutable", Brief: "public, max-age=60"}
