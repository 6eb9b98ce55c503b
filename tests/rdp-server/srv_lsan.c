/* LeakSanitizer suppressions for this program alone, in a sanitizer build
 * (VMDESK_SANITIZE; tools/test-sanitizers). LSan adds them to the ones of
 * tests/sanitizers/lsan.supp, which every process reads.
 *
 * FreeRDP 2.11's NLA server never frees parts of the NTLM exchange: the
 * AUTHENTICATE message's fields (ntlm_read_message_fields_buffer, called by
 * ntlm_read_AuthenticateMessage), the SAM file's path the NTLM context
 * copies (ntlm.c), and the client identity the peer copies with
 * sspi_CopyAuthIdentity (peer.c), which freerdp_peer_free forgets. The
 * leaks are the library's own (our server frees its peer as FreeRDP's
 * server/Sample does: Disconnect, freerdp_peer_context_free,
 * freerdp_peer_free), but every frame between malloc and srv_peer_run is a
 * static function of libwinpr2 or libfreerdp2, which Debian ships stripped:
 * no function name can match them. vmdesk's own RDP client uses libwinpr2,
 * so the library is left out of the shared file and named here instead,
 * where it hides no code of vmdesk's. What it could hide of this program:
 * a WinPR object of ours never freed (events, the channel manager and its
 * channels, one Stream), each freed on its one path in srv_peer.c and
 * main.c; and allocations on the channel threads WinPR starts for
 * libfreerdp-server2, which lsan.supp hides already. */

const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libwinpr2.so\n";
}
