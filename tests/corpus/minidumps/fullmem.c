/* fullmem: writes real full-memory and normal minidumps of itself through dbghelp's
 * MiniDumpWriteDump, for the tests' conformance corpus. It holds no secret: a heap buffer
 * carries a known marker string (ASCII and UTF-16LE) so that tests can check that a reader
 * maps the marker's virtual address to the right file offset. Two worker threads wait on an
 * event so the thread list has three entries; a fourth thread writes the dumps. */
#include <windows.h>
#include <dbghelp.h>
#include <stdio.h>
#include <wchar.h>

static HANDLE stop;
static DWORD WINAPI idle(LPVOID p) { (void)p; WaitForSingleObject(stop, INFINITE); return 0; }

static BOOL dump(const char *name, MINIDUMP_TYPE type)
{
    HANDLE h = CreateFileA(name, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return FALSE;
    BOOL ok = MiniDumpWriteDump(GetCurrentProcess(), GetCurrentProcessId(), h, type, NULL, NULL, NULL);
    CloseHandle(h);
    return ok;
}

static DWORD WINAPI writer(LPVOID p)
{
    (void)p;
    BOOL a = dump("fullmem-full.dmp", MiniDumpWithFullMemory | MiniDumpWithFullMemoryInfo |
                                      MiniDumpWithHandleData | MiniDumpWithThreadInfo |
                                      MiniDumpWithUnloadedModules);
    BOOL b = dump("fullmem-normal.dmp", MiniDumpNormal);
    return a && b ? 0 : 1;
}

int main(void)
{
    static const char marker[] = "dumpguard-conformance-marker-7f3a9c";
    char *heap = HeapAlloc(GetProcessHeap(), 0, 4096);
    wchar_t *wheap = HeapAlloc(GetProcessHeap(), 0, 4096);
    memcpy(heap, marker, sizeof marker);
    swprintf(wheap, 2048, L"%hs", marker);
    printf("marker ascii va=%p utf16 va=%p\n", (void *)heap, (void *)wheap);
    stop = CreateEventA(NULL, TRUE, FALSE, NULL);
    HANDLE t1 = CreateThread(NULL, 0, idle, NULL, 0, NULL), t2 = CreateThread(NULL, 0, idle, NULL, 0, NULL);
    HANDLE w = CreateThread(NULL, 0, writer, NULL, 0, NULL);
    WaitForSingleObject(w, INFINITE);
    DWORD rc = 1; GetExitCodeThread(w, &rc);
    SetEvent(stop); WaitForSingleObject(t1, INFINITE); WaitForSingleObject(t2, INFINITE);
    fflush(stdout);
    return (int)rc;
}
