package state

import (
	"fmt"
	"strings"
)

// Module is one module added by `scaffold add module`, as scaffold.yaml records it.
type Module struct {
	Name   string `yaml:"name"`
	API    bool   `yaml:"api"`
	Page   bool   `yaml:"page"`
	Config bool   `yaml:"config"`
}

// GoName is the module's name as an exported Go identifier ("orders" -> "Orders").
func (m Module) GoName() string { return strings.ToUpper(m.Name[:1]) + m.Name[1:] }

// Dir is the module's folder in the project.
func (m Module) Dir() string { return "web/" + m.Name }

// ConfigYAML is the module's section under modules: in config/config.yaml, without a
// final newline; `scaffold add module --config` also inserts it into an edited file.
func (m Module) ConfigYAML() string {
	return fmt.Sprintf("  %s:\n    # Heading of the module's page and API (1 to 80 characters).\n    title: %s", m.Name, m.GoName())
}
