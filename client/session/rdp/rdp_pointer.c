/* The pointer's shape in the RDP session: FreeRDP hands over the server's
 * pointers (color, monochrome, cached); each becomes ARGB words once and is
 * posted as SESSION_EV_CURSOR when the server sets it. The host pointer stays
 * the user's: the server cannot move it. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include <freerdp/codec/color.h>
#include <freerdp/gdi/gdi.h>

typedef struct {
    rdpPointer pointer;
    uint32_t *argb;
} VdPointer;

static BOOL pointer_new(rdpContext *ctx, rdpPointer *pointer)
{
    VdPointer *p = (VdPointer *)pointer;
    if (!pointer->width || !pointer->height || pointer->width > 384 || pointer->height > 384)
        return TRUE; /* shown as the system arrow */
    p->argb = g_malloc((size_t)pointer->width * pointer->height * 4);
    if (!freerdp_image_copy_from_pointer_data(
            (BYTE *)p->argb, PIXEL_FORMAT_BGRA32, pointer->width * 4, 0, 0, pointer->width,
            pointer->height, pointer->xorMaskData, pointer->lengthXorMask,
            pointer->andMaskData, pointer->lengthAndMask, pointer->xorBpp,
            &ctx->gdi->palette)) {
        g_clear_pointer(&p->argb, g_free);
    }
    return TRUE;
}

static void pointer_free(rdpContext *ctx, rdpPointer *pointer)
{
    (void)ctx;
    g_clear_pointer(&((VdPointer *)pointer)->argb, g_free);
}

static BOOL pointer_set(rdpContext *ctx, rdpPointer *pointer)
{
    const VdPointer *p = (const VdPointer *)pointer;
    Session *s = rdp_of(ctx)->s;
    if (!p->argb) {
        session_post_cursor(s, NULL, -1, -1, 0, 0);
        return TRUE;
    }
    size_t n = (size_t)pointer->width * pointer->height;
    session_post_cursor(s, g_memdup2(p->argb, n * 4), (int)pointer->width, (int)pointer->height,
                        (int)pointer->xPos, (int)pointer->yPos);
    return TRUE;
}

static BOOL pointer_set_null(rdpContext *ctx)
{
    session_post_cursor(rdp_of(ctx)->s, NULL, 0, 0, 0, 0);
    return TRUE;
}

static BOOL pointer_set_default(rdpContext *ctx)
{
    session_post_cursor(rdp_of(ctx)->s, NULL, -1, -1, 0, 0);
    return TRUE;
}

static BOOL pointer_set_position(rdpContext *ctx, UINT32 x, UINT32 y)
{
    (void)ctx;
    (void)x;
    (void)y;
    return TRUE; /* the host pointer stays the user's */
}

void rdp_pointer_register(Rdp *r)
{
    VdPointer proto = {.pointer = {.size = sizeof(VdPointer),
                                   .New = pointer_new,
                                   .Free = pointer_free,
                                   .Set = pointer_set,
                                   .SetNull = pointer_set_null,
                                   .SetDefault = pointer_set_default,
                                   .SetPosition = pointer_set_position}};
    graphics_register_pointer(r->ctx->graphics, &proto.pointer);
}
