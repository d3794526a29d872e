/* Wine 8.0 (Debian 12) lacks bcryptprimitives.dll, whose ProcessPrng every Go >= 1.21
   Windows program needs at start ("fatal error: bcryptprimitives.dll not found").
   This stand-in fills the buffer from RtlGenRandom (advapi32's SystemFunction036).
   Only for the Wine smoke test: real Windows 10/11 has the DLL. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!RtlGenRandom(data, chunk))
			return FALSE;
		data += chunk;
		len -= chunk;
	}
	return TRUE;
}
