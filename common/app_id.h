/* vmdesk's application id: the name of its desktop entry
 * (assets/io.github.vmdesk.Vmdesk.desktop) and of its icon
 * (assets/icons/hicolor/{scalable,symbolic}/apps/), and the window class of
 * the VM windows, so a taskbar groups them under that entry (StartupWMClass;
 * the Wayland app id). */
#pragma once

#define VMDESK_APP_ID "io.github.vmdesk.Vmdesk"
