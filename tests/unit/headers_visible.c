/*
 * headers_visible.c — compiled by the headers_* tests only (see
 * headers.cmake): includes HEADER as a dependent of a library would. A
 * library's public headers must compile here; its internal ones must not
 * be found.
 */
#include HEADER

int main(void)
{
	return 0;
}
