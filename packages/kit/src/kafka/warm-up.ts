// On a new cluster the first transactional producer waits while the broker creates
// __transaction_state (seconds). Bootstrap pays that once, up front, instead of the first
// consumer that commits in a transaction.
import { type Kafka, Partitioners } from 'kafkajs';

export async function warmUpTransactions(kafka: Kafka): Promise<void> {
  const producer = kafka.producer({
    transactionalId: 'booking.bootstrap.warm-up',
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect(); // InitProducerId: finds (or makes) the transaction coordinator
  const tx = await producer.transaction();
  await tx.abort();
  await producer.disconnect();
}
