#include "manager/mgr_vm.h"

struct _MgrVm {
    GObject parent;
    char *name;
    MgrVmPhase phase;
    char *state_text;
    char *reason;
    char *accel;
    GdkTexture *screen;
    bool busy;
    bool overlay_pending;
};

G_DEFINE_FINAL_TYPE(MgrVm, mgr_vm, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_PHASE, PROP_STATE_TEXT, PROP_REASON, PROP_ACCEL, PROP_SCREEN,
       PROP_BUSY, PROP_OVERLAY_PENDING, N_PROPS };
static GParamSpec *props[N_PROPS];

static void mgr_vm_finalize(GObject *obj)
{
    MgrVm *vm = MGR_VM(obj);
    g_free(vm->name);
    g_free(vm->state_text);
    g_free(vm->reason);
    g_free(vm->accel);
    g_clear_object(&vm->screen);
    G_OBJECT_CLASS(mgr_vm_parent_class)->finalize(obj);
}

static void mgr_vm_get_property(GObject *obj, guint id, GValue *value, GParamSpec *pspec)
{
    MgrVm *vm = MGR_VM(obj);
    switch (id) {
    case PROP_NAME: g_value_set_string(value, vm->name); break;
    case PROP_PHASE: g_value_set_int(value, vm->phase); break;
    case PROP_STATE_TEXT: g_value_set_string(value, mgr_vm_get_state_text(vm)); break;
    case PROP_REASON: g_value_set_string(value, vm->reason); break;
    case PROP_ACCEL: g_value_set_string(value, vm->accel); break;
    case PROP_SCREEN: g_value_set_object(value, vm->screen); break;
    case PROP_BUSY: g_value_set_boolean(value, vm->busy); break;
    case PROP_OVERLAY_PENDING: g_value_set_boolean(value, vm->overlay_pending); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
    }
}

static void mgr_vm_set_property(GObject *obj, guint id, const GValue *value, GParamSpec *pspec)
{
    MgrVm *vm = MGR_VM(obj);
    if (id == PROP_NAME)
        vm->name = g_value_dup_string(value);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
}

static void mgr_vm_class_init(MgrVmClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->finalize = mgr_vm_finalize;
    oc->get_property = mgr_vm_get_property;
    oc->set_property = mgr_vm_set_property;
    GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
    props[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL,
                                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                               G_PARAM_STATIC_STRINGS);
    props[PROP_PHASE] = g_param_spec_int("phase", NULL, NULL, MGR_VM_STOPPED, MGR_VM_FAILED,
                                         MGR_VM_STOPPED, ro);
    props[PROP_STATE_TEXT] = g_param_spec_string("state-text", NULL, NULL, NULL, ro);
    props[PROP_REASON] = g_param_spec_string("reason", NULL, NULL, NULL, ro);
    props[PROP_ACCEL] = g_param_spec_string("accel", NULL, NULL, NULL, ro);
    props[PROP_SCREEN] = g_param_spec_object("screen", NULL, NULL, GDK_TYPE_TEXTURE, ro);
    props[PROP_BUSY] = g_param_spec_boolean("busy", NULL, NULL, FALSE, ro);
    props[PROP_OVERLAY_PENDING] = g_param_spec_boolean("overlay-pending", NULL, NULL, FALSE, ro);
    g_object_class_install_properties(oc, N_PROPS, props);
}

static void mgr_vm_init(MgrVm *vm)
{
}

MgrVm *mgr_vm_new(const char *name)
{
    return g_object_new(MGR_TYPE_VM, "name", name, NULL);
}

const char *mgr_vm_get_name(MgrVm *vm)
{
    return vm->name;
}

MgrVmPhase mgr_vm_get_phase(MgrVm *vm)
{
    return vm->phase;
}

const char *mgr_vm_get_state_text(MgrVm *vm)
{
    return vm->state_text ? vm->state_text : "Stopped";
}

const char *mgr_vm_get_reason(MgrVm *vm)
{
    return vm->reason;
}

const char *mgr_vm_get_accel(MgrVm *vm)
{
    return vm->accel;
}

GdkTexture *mgr_vm_get_screen(MgrVm *vm)
{
    return vm->screen;
}

bool mgr_vm_get_busy(MgrVm *vm)
{
    return vm->busy;
}

bool mgr_vm_get_overlay_pending(MgrVm *vm)
{
    return vm->overlay_pending;
}

/* Replace *@field by a copy of @value; true when it changed. */
static bool set_str(char **field, const char *value)
{
    if (!g_strcmp0(*field, value))
        return false;
    g_free(*field);
    *field = g_strdup(value);
    return true;
}

void mgr_vm_set_state(MgrVm *vm, MgrVmPhase phase, const char *state_text, const char *reason,
                      const char *accel)
{
    g_object_freeze_notify(G_OBJECT(vm));
    if (vm->phase != phase) {
        vm->phase = phase;
        g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_PHASE]);
    }
    if (set_str(&vm->state_text, state_text))
        g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_STATE_TEXT]);
    if (set_str(&vm->reason, reason))
        g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_REASON]);
    if (set_str(&vm->accel, accel))
        g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_ACCEL]);
    g_object_thaw_notify(G_OBJECT(vm));
}

void mgr_vm_set_screen(MgrVm *vm, GdkTexture *screen)
{
    if (g_set_object(&vm->screen, screen))
        g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_SCREEN]);
}

void mgr_vm_set_busy(MgrVm *vm, bool busy)
{
    if (vm->busy == busy)
        return;
    vm->busy = busy;
    g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_BUSY]);
}

void mgr_vm_set_overlay_pending(MgrVm *vm, bool pending)
{
    if (vm->overlay_pending == pending)
        return;
    vm->overlay_pending = pending;
    g_object_notify_by_pspec(G_OBJECT(vm), props[PROP_OVERLAY_PENDING]);
}
