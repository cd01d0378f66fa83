/* test_store_query.c — being written. */
int main(void)
{
	return 1;
}
