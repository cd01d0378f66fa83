/* test_store_restart.c — being written. */
int main(void)
{
	return 1;
}
